import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { runDemo } from '../../src/cli/demo.ts';
import type { RawConfig } from '../../src/config/raw.ts';
import { parsePemCertificates } from '../../src/crypto/certificate.ts';
import { freePorts } from '../support/free-ports.ts';

// The README's first command runs this demo: it must keep working end to end.
const dir = mkdtempSync(join(tmpdir(), 'mra-demo-'));
const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await redis.quit();
});

/** The Redis keys of the demo run of process `pid` (its queues' prefix is mra-demo-<pid>-<adminId>). */
async function keysOfRun(pid: number): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `mra-demo-${pid}-*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys;
}

/** The demo as a user runs it, its output gathered. */
function spawnDemo(args: readonly string[], env: NodeJS.ProcessEnv = process.env) {
  const child = spawn(process.execPath, ['src/cli/main.ts', 'demo', '--dir', dir, ...args], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  const output = { text: '' };
  child.stdout.on('data', (d: Buffer) => {
    output.text += d.toString('utf8');
  });
  child.stderr.on('data', (d: Buffer) => {
    output.text += d.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output, exited };
}

/** Waits until `text()` includes `line`, or the child has exited. */
async function waitFor(text: () => string, line: string, child: { exitCode: number | null }) {
  while (!text().includes(line) && child.exitCode === null) await new Promise((r) => setTimeout(r, 250));
}

/** A route of each scope, and what it answers with a token of that scope. */
const ROUTE_OF_SCOPE = {
  publish: { method: 'GET', path: '/api/v1/register/imports' },
  border: { method: 'GET', path: '/api/v1/subscriptions' },
  admin: { method: 'POST', path: '/api/v1/deliveries/replay', body: { ids: [1] } },
  monitoring: { method: 'GET', path: '/api/v1/monitoring/summaries?partner=CL&direction=issued' },
} as const;
type Scope = keyof typeof ROUTE_OF_SCOPE;

async function call(api: string, token: string, scope: Scope, partner: string): Promise<number> {
  const route = ROUTE_OF_SCOPE[scope];
  const res = await request(`${api}${route.path.replace('partner=CL', `partner=${partner}`)}`, {
    method: route.method,
    headers: {
      authorization: `Bearer ${token}`,
      ...('body' in route ? { 'content-type': 'application/json' } : {}),
    },
    ...('body' in route ? { body: JSON.stringify(route.body) } : {}),
  });
  await res.body.text();
  return res.statusCode;
}

describe('demo exchange', () => {
  it('exchanges decisions both ways with receipts, webhooks, lookups and a report, and stays up as a sandbox', async () => {
    // As a user runs it: the command, left running, then Ctrl-C (SIGINT).
    const { child, output, exited } = spawnDemo(['--keep-running']);
    const bound = setTimeout(() => child.kill('SIGKILL'), 380_000);
    let text = '';
    try {
      // Ready once the sandbox lines are printed (the files are written just before).
      await waitFor(() => output.text, 'Stop with Ctrl-C', child);
      text = output.text;
      // Its queues are its own, under a prefix of its process.
      expect((await keysOfRun(child.pid!)).length).toBeGreaterThan(0);
      expect(text).toContain('demo exchange: OK');
      // Tokens for every scope of each administration, each opening its own scope's routes and no other's.
      const tokens = JSON.parse(readFileSync(join(dir, 'tokens.json'), 'utf8')) as Record<
        string,
        Record<Scope, string>
      >;
      const urls = JSON.parse(readFileSync(join(dir, 'urls.json'), 'utf8')) as Record<
        string,
        Record<'api' | 'partner' | 'docs' | 'dashboard' | 'metrics', string>
      >;
      expect(Object.keys(tokens).sort()).toEqual(['CL', 'PE']);
      for (const admin of ['PE', 'CL']) {
        expect(Object.keys(tokens[admin]!).sort()).toEqual(['admin', 'border', 'monitoring', 'publish']);
        expect(urls[admin]!.partner).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
        expect(urls[admin]!.docs).toBe(`${urls[admin]!.api}/docs`);
        expect(urls[admin]!.dashboard).toBe(`${urls[admin]!.api}/dashboard`);
        for (const scope of Object.keys(ROUTE_OF_SCOPE) as Scope[]) {
          const partner = admin === 'PE' ? 'CL' : 'PE';
          const status = await call(urls[admin]!.api, tokens[admin]![scope], scope, partner);
          expect(status, `${admin} ${scope}`).toBeLessThan(300);
          const other: Scope = scope === 'border' ? 'publish' : 'border';
          expect(
            await call(urls[admin]!.api, tokens[admin]![other], scope, partner),
            `${admin} ${other} on ${scope}`,
          ).toBe(403);
        }
      }
      const border = await request(`${urls.PE!.api}/api/v1/operators/CL/CLNOSUCH0001`, {
        headers: { authorization: `Bearer ${tokens.PE!.border}` },
      });
      expect(border.statusCode).toBe(200);
      expect(((await border.body.json()) as { reason: string }).reason).toBe('unknown');
      expect(text).toContain(
        `tokens for every scope (publish, border, admin, monitoring) of each gateway: ${join(dir, 'tokens.json')}`,
      );
      expect(text).toMatch(
        /curl -s -H "Authorization: Bearer [\w-]{43}" http:\/\/127\.0\.0\.1:\d+\/api\/v1\/operators\/CL\//,
      );
      expect(text).toContain('Ctrl-C');
      expect(text).toContain(urls.PE!.docs);
    } finally {
      if (child.exitCode === null) child.kill('SIGINT');
    }
    // Ctrl-C stops both gateways cleanly and exits 0, and the run's queues go with them.
    expect(await exited, output.text).toBe(0);
    const out = output.text;
    clearTimeout(bound);
    expect(out).toContain('demo stopped');
    expect(await keysOfRun(child.pid!)).toEqual([]);
    expect(existsSync(join(dir, 'data', String(child.pid)))).toBe(false);
    // Stopped: the sandbox files go with the gateways they describe.
    expect(existsSync(join(dir, 'tokens.json'))).toBe(false);
    expect(existsSync(join(dir, 'urls.json'))).toBe(false);
    expect(text).toContain('PE → CL: pushed and applied');
    expect(text).toContain('CL → PE: pushed and applied');
    expect(text).toMatch(/PE keeps [1-9]\d* signed receipts from CL; 4 deliveries confirmed/);
    expect(text).toMatch(/CL keeps [1-9]\d* signed receipts from PE; 4 deliveries confirmed/);
    expect(text).toContain("CL reconciles with PE's snapshot: in sync (3 operators)");
    expect(text).toContain('duplicate, duplicate, duplicate');
    expect(text).toContain('rejected SIGNATURE_INVALID');
    expect(text).toContain('demo exchange: OK');
    // The border systems: signed webhooks printed, lookups answered, a manifest in one call.
    expect(text).toMatch(
      /webhook at PE's border system: benefits\.started CL\/CLDEMO\d+ certified, recognised \(signature verified\)/,
    );
    expect(text).toMatch(
      /webhook at CL's border system: benefits\.started PE\/PEDEMO\d+ certified, recognised \(signature verified\)/,
    );
    expect(text).not.toContain('SIGNATURE NOT VERIFIED');
    expect(text).toMatch(/PE border lookup of CL\/CLDEMO\d+: recognised, benefits fewer-checks, priority/);
    expect(text).toMatch(/CL border lookup of PE\/PEDEMO\d+: not recognised \(suspended\)/);
    expect(text).toContain(
      'border lookup of a manifest of 5 items in one call: 3 recognised, 2 not (suspended, unknown)',
    );
    // The monitoring report: summarised, and the printable page written.
    expect(text).toMatch(/PE → CL: [1-9]\d* records published, [1-9]\d* delivered/);
    expect(text).toMatch(/CL → PE: [1-9]\d* operators held .*; [1-9]\d* border lookups, [1-9]\d* recognised/);
    expect(readFileSync(join(dir, 'report-PE-CL.html'), 'utf8')).toMatch(/^<!DOCTYPE html>/i);

    // Two levels, as administrations run them: each partner's root is the anchor, its issuing CA an
    // intermediate, and the TLS and signing chains hold the leaf and the issuing CA.
    const pe = parseYaml(readFileSync(join(dir, 'PE.yaml'), 'utf8')) as RawConfig;
    expect(pe.server?.mtls).toBe(true);
    const cl = pe.partners.find((p) => p.adminId === 'CL')!;
    expect(cl.trustAnchors).toEqual([join(dir, 'certs', 'CL', 'root.pem')]);
    expect(cl.intermediates).toEqual([join(dir, 'certs', 'CL', 'issuing-ca.pem')]);
    const certs = (name: string) =>
      parsePemCertificates(readFileSync(join(dir, 'certs', 'CL', name), 'utf8'));
    const [root, issuing] = [certs('root.pem')[0]!, certs('issuing-ca.pem')[0]!];
    for (const chain of [certs('tls.pem'), certs('signing.pem')]) {
      expect(chain.map((c) => c.fingerprint)).toEqual([chain[0]!.fingerprint, issuing.fingerprint]);
      expect(chain[0]!.x509.verify(issuing.publicKey)).toBe(true);
    }
    expect(issuing.x509.verify(root.publicKey)).toBe(true);
  }, 400_000);

  it('ends a run without --keep-running with "demo exchange: OK" and leaves nothing running or written', async () => {
    const lines: string[] = [];
    const run = await runDemo({ dir, keepRunning: false, print: (l) => lines.push(l) });
    expect(run.ok, lines.join('\n')).toBe(true);
    expect(lines.at(-1)).toBe('demo exchange: OK');
    expect(existsSync(join(dir, 'tokens.json'))).toBe(false);
    // Both gateways are closed: their API listeners no longer answer.
    await expect(request(`${run.gateways[0]!.apiUrl}/health/live`)).rejects.toThrow();
    expect(await keysOfRun(process.pid)).toEqual([]);
  }, 400_000);

  it('works without Redis: pulls instead of pushes, and says plainly that webhooks wait for it', async () => {
    // A loopback port nothing listens on.
    const [port] = await freePorts(1);
    const saved = process.env.REDIS_URL;
    process.env.REDIS_URL = `redis://127.0.0.1:${port}`;
    const lines: string[] = [];
    try {
      const run = await runDemo({ dir, keepRunning: false, print: (l) => lines.push(l) });
      const text = lines.join('\n');
      expect(run.ok, text).toBe(true);
      expect(lines.at(-1)).toBe('demo exchange: OK');
      expect(text).toContain(
        `webhooks wait for Redis, which is not running at 127.0.0.1:${port}; start it with`,
      );
      expect(text).toContain("PE → CL: not pushed (Redis is not running); CL pulls PE's feed instead");
      expect(text).toContain("CL reconciles with PE's snapshot: in sync (3 operators)");
      expect(text).toMatch(/PE border lookup of CL\/CLDEMO\d+: recognised/);
    } finally {
      if (saved === undefined) delete process.env.REDIS_URL;
      else process.env.REDIS_URL = saved;
    }
  }, 400_000);

  it('stops both gateways on Ctrl-C during a run, exits 130 and leaves no data folder nor queue behind', async () => {
    const { child, output, exited } = spawnDemo([]);
    const bound = setTimeout(() => child.kill('SIGKILL'), 380_000);
    // Both gateways are up and the exchange is under way.
    await waitFor(() => output.text, 'Decisions recorded, signed, pushed', child);
    child.kill('SIGINT');
    expect(await exited, output.text).toBe(130);
    clearTimeout(bound);
    expect(output.text).toContain('SIGINT: stopping the demo gateways');
    expect(output.text).toContain('demo interrupted: both gateways stopped');
    expect(output.text).not.toContain('demo exchange:');
    // The data folders were unlocked and removed; a next run finds nothing of this one.
    expect(existsSync(join(dir, 'data', String(child.pid)))).toBe(false);
    expect(await keysOfRun(child.pid!)).toEqual([]);
  }, 400_000);
});
