/**
 * The operators' commands without a running store of their own, as an operator runs them: real processes on
 * real configuration files, against a real partner gateway over mutual TLS, with the exit codes their help
 * promises (0 ok, 1 the thing checked is bad, 2 cannot run). `check` reaches a running partner (ok) and a
 * stopped one (FAIL); `keys rotate`; `tokens`. Usage errors are parsed in this process (cli-ops-support.ts).
 * The store's commands: cli-ops-store.test.ts.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { storeCheck } from '../../src/cli/ops/check-local.ts';
import { loadConfig } from '../../src/config/load.ts';
import type { RawConfig } from '../../src/config/raw.ts';
import type { TestAdmins } from '../support/admins.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { makeLinkedAdmins } from '../support/exchange.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { gateway, inProcess } from './cli-ops-support.ts';

// Processes only where the process is the point (standard input, the exit code of a run).
describe('commands without a store', { timeout: 300_000 }, () => {
  it('--version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    const run = await inProcess(['--version']);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe(`mra-gateway ${version}`);
  });

  it('tokens new prints a token whose hash is the entry, and tokens hash agrees', async () => {
    const made = await gateway(['tokens', 'new', '--id', 'border-system', '--scopes', 'border,monitoring']);
    expect(made.code, made.stderr).toBe(0);
    const token = /shown once, not stored\): (\S+)/.exec(made.stdout)?.[1];
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const entry = parse(made.stdout.slice(made.stdout.indexOf('- id:'))) as {
      id: string;
      tokenSha256: string;
      scopes: string[];
    }[];
    expect(entry[0]).toMatchObject({ id: 'border-system', scopes: ['border', 'monitoring'] });
    const hashed = await gateway(['tokens', 'hash'], {}, `${token}\n`);
    expect(hashed.code, hashed.stderr).toBe(0);
    expect(hashed.stdout.trim()).toBe(entry[0]!.tokenSha256);

    expect((await gateway(['tokens', 'hash'], {}, 'short')).code).toBe(1);
    // Usage, parsed in this process: the exit codes are the program's (program.ts), as main.ts ends them.
    const badScope = await inProcess(['tokens', 'new', '--id', 'x', '--scopes', 'everything']);
    expect(badScope.code).toBe(2);
    expect(badScope.stderr).toMatch(/unknown everything/);
    expect((await inProcess(['tokens', 'new', '--scopes', 'border'])).code).toBe(2); // --id missing
    const help = await inProcess(['tokens', 'new', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Exit codes: 0/);
  });
});

// Each command is a process of its own, seconds apiece on a loaded machine.
describe('check against partners over mutual TLS', { timeout: 300_000 }, () => {
  let admins: TestAdmins;
  let cl: TestGateway | undefined;
  let db: TestDatabase;

  beforeAll(async () => {
    admins = await makeLinkedAdmins(['PE', 'CL'], { mtls: true });
    db = await createTestDatabase();
    cl = await startTestGateway(admins.get('CL').config, 'postgres');
  }, 180_000);
  afterAll(async () => {
    await cl?.close();
    await db?.drop();
    admins?.cleanup();
  });

  it('passes every check while the partner runs, and fails the partner once it is stopped', async () => {
    const config = admins.get('PE').configPath;
    const up = await gateway(['check', '--config', config], { DATABASE_URL: db.url });
    expect(up.code, up.stdout + up.stderr).toBe(0);
    for (const what of [
      /^ok {4}configuration .*schema valid/m,
      /^ok {4}signing key 1 of 1 .*signs now/m,
      /^ok {4}partner listener TLS .*chain holds/m,
      /^ok {4}partner CL anchors: 1 anchor\(s\), 1 issuing CA/m,
      /^ok {4}store \(PostgreSQL\): reachable/m,
      /^ok {4}redis .*noeviction/m,
      /^ok {4}partner CL TLS: 127\.0\.0\.1:\d+ TLSv1\.[23], .*our client certificate sent/m,
      /^ok {4}partner CL \.well-known: CL, mra-exchange\/1, 1 of 1 signing key/m,
      /^ok {4}partner CL request token: .*200/m,
      /^all checks ok$/m,
    ]) {
      expect(up.stdout).toMatch(what);
    }
    console.log(`check, partner up:\n${up.stdout}`);

    await cl?.close();
    cl = undefined;
    const down = await gateway(['check', '--config', config], { DATABASE_URL: db.url });
    expect(down.code, down.stdout + down.stderr).toBe(1);
    expect(down.stdout).toMatch(/^FAIL {2}partner CL TLS: 127\.0\.0\.1:\d+: ECONNREFUSED/m);
    expect(down.stdout).toMatch(/^FAIL {2}partner CL \.well-known: /m);
    expect(down.stdout).toMatch(/^FAIL {2}partner CL request token: /m);
    expect(down.stdout).toMatch(/^3 check\(s\) failed$/m);

    // Offline, and on the embedded store not made yet: nothing reaches the partner.
    const offline = await gateway(['check', '--config', config, '--offline']);
    expect(offline.code, offline.stdout).toBe(0);
    expect(offline.stdout).toMatch(/^ok {4}store \(embedded\): .* does not exist yet/m);
  });

  it('reports an empty embedded data folder as no store yet, and writes nothing there', async () => {
    const empty = mkdtempSync(join(admins.dir, 'empty-data-'));
    const config = loadConfig(admins.get('PE').configPath, { env: {} });
    const line = await storeCheck({ ...config, storage: { kind: 'embedded', dataDir: empty } });
    expect(line).toEqual({
      ok: true,
      what: `store (embedded, ${empty})`,
      detail: 'no store yet: made at the first start',
    });
    expect(readdirSync(empty)).toEqual([]);
  });

  it('fails a configuration that does not load, and refuses a bad option with 2', async () => {
    const raw = parse(readFileSync(admins.get('PE').configPath, 'utf8')) as RawConfig;
    raw.home.signing[0]!.key = { file: 'missing.key' };
    const broken = join(admins.dir, 'PE-broken.yaml');
    writeFileSync(broken, stringify(raw));
    const run = await gateway(['check', '--config', broken, '--offline']);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^FAIL {2}configuration .*\/home\/signing\/0\/key/m);
    expect((await inProcess(['check', '--timeout', 'soon'])).code).toBe(2);
    expect((await inProcess(['check', '--no-such-option'])).code).toBe(2);
  });

  it('keys rotate makes a signing certificate that signs next, and a CSR without a CA', async () => {
    const pe = admins.get('PE');
    const certDir = pe.dev.certDir;
    const out = join(admins.dir, 'rotated');
    const run = await gateway([
      'keys',
      'rotate',
      '--config',
      pe.configPath,
      '--out',
      out,
      '--ca',
      join(certDir, 'issuing-ca.pem'),
      '--ca-key',
      join(certDir, 'issuing-ca.key'),
    ]);
    expect(run.code, run.stderr).toBe(0);
    const kid = /^kid\s+(\S+)$/m.exec(run.stdout)?.[1];
    const entry = parse(run.stdout.slice(run.stdout.indexOf('- key:'))) as RawConfig['home']['signing'];
    const raw = parse(readFileSync(pe.configPath, 'utf8')) as RawConfig;
    raw.home.signing.push(entry[0]!);
    const rotatedPath = join(admins.dir, 'PE-rotated.yaml');
    writeFileSync(rotatedPath, stringify(raw));
    const rotated = loadConfig(rotatedPath, { env: {} });
    expect(rotated.home.signers.map((s) => s.kid)).toEqual([kid, pe.config.home.signers[0]!.kid]);
    const checked = await gateway(['check', '--config', rotatedPath, '--offline']);
    expect(checked.code, checked.stdout).toBe(0);
    expect(checked.stdout).toMatch(/^ok {4}signing key 2 of 2 .*published, not signing/m);

    const csr = await gateway(['keys', 'rotate', '--config', pe.configPath, '--out', out, '--alg', 'EdDSA']);
    expect(csr.code, csr.stderr).toBe(0);
    const csrPath = /^certificate request \(to your CA\)\s+(\S+)$/m.exec(csr.stdout)?.[1];
    expect(readFileSync(csrPath!, 'utf8')).toMatch(/^-----BEGIN CERTIFICATE REQUEST-----/);
    const usage = await inProcess(['keys', 'rotate', '--config', pe.configPath, '--ca', 'x.pem']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--ca and --ca-key go together/);
  });
});
