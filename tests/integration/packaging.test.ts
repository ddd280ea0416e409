/**
 * The packaging, short of a container engine (none runs here): the compose setup's PKI script and its two
 * committed gateway configurations, for real, and the rules scripts/check-packaging.ts holds the Dockerfile and
 * docker-compose.yml to, shown to catch what they are meant to catch.
 *
 * deploy/compose/pki.sh runs as it does in the `pki` service (its folder and CLI moved by environment), then
 * each of deploy/compose/pe.yaml and cl.yaml is loaded with only its container paths, listen addresses, ports
 * and partner host rewritten to this machine: both gateways start on PostgreSQL and Redis, and each sends the
 * other a batch over mutual TLS through the PKI the script made, the receipt verified against its anchors.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { composeFindings, dockerfileFindings } from '../../scripts/check-packaging.ts';
import { sampleRecord } from '../../src/cli/samples.ts';
import { loadConfig } from '../../src/config/load.ts';
import { createPartnerClient } from '../../src/partner-client/client.ts';
import { signRecord } from '../../src/publishing/sign-record.ts';
import { freePorts } from '../support/free-ports.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';

const root = resolve(import.meta.dirname, '../..');
const work = mkdtempSync(join(tmpdir(), 'mra-packaging-'));
const started: TestGateway[] = [];

afterAll(async () => {
  await Promise.all(started.map((g) => g.close()));
  rmSync(work, { recursive: true, force: true });
});

const freePort = async () => (await freePorts(1))[0]!;

describe('the compose setup, without containers', () => {
  it('pki.sh makes both PKIs, exchanges anchors, keeps CA keys apart, and a second run changes nothing', () => {
    const pki = join(work, 'pki');
    const env = {
      ...process.env,
      PATH: `${join(root, 'node_modules/.bin')}${delimiter}${process.env.PATH ?? ''}`,
      PKI_DIR: pki,
      GATEWAY_CLI: join(root, 'src/cli/main.ts'),
    };
    const first = spawnSync('sh', [join(root, 'deploy/compose/pki.sh')], {
      env,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(first.status, first.stdout + first.stderr).toBe(0);
    for (const [admin, partner] of [
      ['PE', 'CL'],
      ['CL', 'PE'],
    ] as const) {
      for (const f of ['root.pem', 'issuing-ca.pem', 'signing.pem', 'signing.key', 'tls.pem', 'tls.key']) {
        expect(existsSync(join(pki, admin, 'own', f)), `${admin}/own/${f}`).toBe(true);
      }
      expect(existsSync(join(pki, admin, 'own', 'root.key'))).toBe(false);
      expect(existsSync(join(pki, admin, 'own', 'issuing-ca.key'))).toBe(false);
      expect(existsSync(join(pki, 'ca', admin, 'root.key'))).toBe(true);
      expect(readFileSync(join(pki, admin, 'partners', partner, 'root.pem'), 'utf8')).toBe(
        readFileSync(join(pki, partner, 'own', 'root.pem'), 'utf8'),
      );
      expect(
        Buffer.from(readFileSync(join(pki, admin, 'webhook-secrets.key'), 'utf8').trim(), 'base64'),
      ).toHaveLength(32);
    }
    const tlsBefore = readFileSync(join(pki, 'PE', 'own', 'tls.pem'), 'utf8');
    const again = spawnSync('sh', [join(root, 'deploy/compose/pki.sh')], {
      env,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(again.status, again.stderr).toBe(0);
    expect(readFileSync(join(pki, 'PE', 'own', 'tls.pem'), 'utf8')).toBe(tlsBefore);
    console.log(`pki.sh: ${first.stdout.trim().split('\n').slice(-2).join('; ')}`);
  });

  it('the committed configurations start both gateways, which exchange over mutual TLS with that PKI', async () => {
    const pki = join(work, 'pki');
    expect(existsSync(join(pki, 'PE', 'own', 'tls.pem')), 'the previous test made the PKI').toBe(true);
    const ports = { PE: await freePort(), CL: await freePort() };
    const prefix = `mra-test-packaging-${randomBytes(4).toString('hex')}`;
    const configs = Object.fromEntries(
      (['PE', 'CL'] as const).map((admin) => {
        const partner = admin === 'PE' ? 'CL' : 'PE';
        const text = readFileSync(join(root, `deploy/compose/${admin.toLowerCase()}.yaml`), 'utf8')
          .replaceAll('/var/lib/mra-gateway/certs', join(pki, admin))
          .replaceAll('host: 0.0.0.0', 'host: 127.0.0.1')
          .replace('port: 8443', `port: ${ports[admin]}`)
          .replace('port: 8080', 'port: 0')
          .replace(`prefix: mra-${admin}`, `prefix: ${prefix}-${admin}`)
          .replace(`https://${partner.toLowerCase()}-gateway:8443/`, `https://127.0.0.1:${ports[partner]}/`);
        const path = join(work, `${admin}.yaml`);
        writeFileSync(path, text);
        const config = loadConfig(path, {
          env: { DATABASE_URL: 'postgres://unused.invalid/x', REDIS_URL: 'redis://127.0.0.1:6379' },
        });
        expect(config.partners[0]?.endpoint).toBe(`https://127.0.0.1:${ports[partner]}/mra/v1`);
        return [admin, config];
      }),
    );
    for (const admin of ['PE', 'CL'] as const)
      started.push(await startTestGateway(configs[admin]!, 'postgres'));

    for (const [from, to] of [
      ['PE', 'CL'],
      ['CL', 'PE'],
    ] as const) {
      const home = configs[from]!;
      const client = createPartnerClient(from, home.partners[0]!, { tls: home.server.tls });
      try {
        const record = await signRecord(sampleRecord(from, 4242), home.home.signers[0]!);
        const result = await client.sendRecords([record]);
        expect(result.ok, JSON.stringify(result)).toBe(true);
        if (!result.ok) return;
        expect(result.receipt.receiver).toBe(to);
        expect(result.receipt.results.map((r) => r.outcome)).toEqual(['accepted']);
        console.log(
          `${from} → ${to} over mTLS with the compose PKI: receipt ${result.receipt.receiptId} verified`,
        );
      } finally {
        await client.close();
      }
    }
  });
});

describe('the rules of npm run check:packaging', () => {
  const raw = () => parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true });
  const failed = (config: unknown) =>
    composeFindings(config as Parameters<typeof composeFindings>[0])
      .filter((f) => !f.ok)
      .map((f) => f.what);

  it('docker-compose.yml as committed keeps every promise', () => {
    expect(failed(raw())).toEqual([]);
  });

  it('catches an evicting or non-persistent Redis, a port on every address, a root gateway, an anonymous volume', () => {
    const c = raw();
    c.services.redis.command = ['redis-server', '--maxmemory-policy', 'allkeys-lru'];
    c.services['pe-gateway'].ports = ['8443:8443'];
    c.services['cl-gateway'].user = 'root';
    c.services.postgres.volumes = ['/var/lib/postgresql/data'];
    delete c.services['pe-gateway'].healthcheck;
    c.services['cl-gateway'].depends_on = { postgres: { condition: 'service_started' } };
    expect(failed(c).sort()).toEqual(
      [
        'redis runs with --maxmemory-policy noeviction --appendonly yes',
        'cl-gateway runs as a non-root user',
        'cl-gateway waits for healthy postgres and redis',
        'pe-gateway has a health check',
        'pe-gateway publishes 8443:8443 on 127.0.0.1 only',
        'postgres: /var/lib/postgresql/data is on a named volume',
        'postgres data on a named volume',
      ].sort(),
    );
  });

  it('the Dockerfile as committed passes, and each rule catches its fault', () => {
    const text = readFileSync(join(root, 'Dockerfile'), 'utf8');
    const version = (
      JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { devDependencies: { node: string } }
    ).devDependencies.node;
    expect(dockerfileFindings(text, version).filter((f) => !f.ok)).toEqual([]);
    const bad = (edit: (t: string) => string) =>
      dockerfileFindings(edit(text), version)
        .filter((f) => !f.ok)
        .map((f) => f.what);
    expect(bad((t) => t.replaceAll(`node:${version}-`, 'node:24-'))[0]).toMatch(/every FROM is node/);
    expect(bad((t) => t.replace('USER node', 'USER root'))).toEqual([
      'the final stage runs as a non-root USER',
    ]);
    expect(bad((t) => t.replace(/HEALTHCHECK[^\n]*\\\n[^\n]*\n/, ''))).toEqual([
      'a HEALTHCHECK on /health/live',
    ]);
    expect(bad((t) => t.replace('--omit=dev ', ''))).toEqual([
      'production dependencies only (npm ci --omit=dev)',
    ]);
  });
});
