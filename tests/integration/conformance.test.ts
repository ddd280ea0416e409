/**
 * The conformance kit as a partner administration runs it: a real process of the command line, configured as
 * CL (its signing key, its TLS client certificate, PE listed as partner), against PE's real gateway over mutual
 * TLS through the two-level PKI: every check passes. Against a non-conforming target (an HTTPS server that
 * takes any client, accepts every record and answers with an unsigned receipt) the right checks fail, and an
 * unreachable target is exit 2.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/conformance/types.ts';
import { recordDigest } from '../../src/crypto/digest.ts';
import type { TestAdmins } from '../support/admins.ts';
import { freePorts, makeLinkedAdmins, newAeoId, publish } from '../support/exchange.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';

let admins: TestAdmins;
let pe: TestGateway;
let fake: Server;
let fakeUrl: string;
let fakeRequests = 0;

interface KitJson {
  results: CheckResult[];
  counts: { pass: number; fail: number; skip: number };
  exitCode: number;
  namespace: string;
}

function kit(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['src/cli/main.ts', 'conformance', '--config', admins.get('CL').configPath, ...args],
      { timeout: 300_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error && typeof error.code === 'number' ? error.code : error ? -1 : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Accepts whatever it is sent, from anyone, with a receipt signed by no one. */
function startNonConforming(certDir: string): Promise<Server> {
  const server = createServer(
    {
      cert: readFileSync(join(certDir, 'tls.pem')),
      key: readFileSync(join(certDir, 'tls.key')),
      requestCert: false,
    },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        fakeRequests += 1;
        let records: unknown[] = [];
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
          records = (Array.isArray(body.records) ? body.records : body.summaries) as unknown[];
        } catch {
          // Anything is fine here.
        }
        const payload = {
          schema: 'aeo-receipt/1',
          receiptId: crypto.randomUUID(),
          sender: 'CL',
          receiver: 'PE',
          receivedAt: new Date().toISOString(),
          results: (Array.isArray(records) ? records : []).map((r, index) => ({
            index,
            digest: recordDigest(String(r)),
            outcome: 'accepted',
          })),
        };
        const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
        const receipt = `${b64({ alg: 'none', typ: 'aeo-receipt+jws' })}.${b64(payload)}.`;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ receipt, records: [], next: '' }));
      });
    },
  );
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

beforeAll(async () => {
  admins = await makeLinkedAdmins(['PE', 'CL'], { mtls: true });
  pe = await startTestGateway(admins.get('PE').config, 'postgres');
  // Records PE shares with CL, so that the kit reads several feed and snapshot pages.
  for (let i = 0; i < 5; i += 1) await publish(pe, newAeoId('PE'));
  fake = await startNonConforming(admins.get('PE').dev.certDir);
  fakeUrl = `https://127.0.0.1:${(fake.address() as AddressInfo).port}/mra/v1`;
});
afterAll(async () => {
  await new Promise((resolve) => fake?.close(resolve));
  await pe?.close();
  admins?.cleanup();
});

const peEndpoint = () => admins.get('CL').config.partners.find((p) => p.adminId === 'PE')!.endpoint;

describe('conformance kit', () => {
  it("passes every check against this project's gateway over mutual TLS", async () => {
    expect(peEndpoint()).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/mra\/v1$/);
    const run = await kit('--target', peEndpoint(), '--json');
    const result = JSON.parse(run.stdout) as KitJson;
    const notPassed = result.results.filter((r) => r.status !== 'PASS');
    console.log(
      `conformance against the gateway: ${result.counts.pass} passed, ${result.counts.fail} failed, ${result.counts.skip} skipped`,
    );
    expect(notPassed).toEqual([]);
    expect(run.code).toBe(0);
    const sections = new Set(result.results.map((r) => r.section));
    for (const s of [
      'well-known',
      'transport',
      'strictness',
      'receipts',
      'duplicates',
      'versions',
      'feed',
      'snapshot',
      'monitoring',
      'cleanup',
    ]) {
      expect(sections).toContain(s);
    }
    expect(result.results.length).toBeGreaterThan(60);
    // The kit's operators are in the target, in its own namespace, and withdrawn at the end.
    const rows = await pe.store.query<{ aeo_id: string; status: string }>(
      "select aeo_id, status from operator_state where issuer = 'CL'",
    );
    expect(rows.length).toBeGreaterThan(3);
    expect(rows.every((r) => r.aeo_id.startsWith(result.namespace) && r.status === 'withdrawn')).toBe(true);
  });

  it('prints one readable line a check, and runs only the sections asked for', async () => {
    const run = await kit('--target', peEndpoint(), '--only', 'well-known,transport');
    expect(run.code, `${run.stdout}${run.stderr}`).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toContain('conformance kit: CL checking PE');
    expect(run.stdout).toContain('test instance');
    const checks = lines.filter((l) => /^(PASS|FAIL|SKIP) /.test(l));
    expect(checks.length).toBeGreaterThan(8);
    expect(checks.every((l) => l.startsWith('PASS ') && /sent .*; expected .*; got /.test(l))).toBe(true);
    expect(checks.some((l) => l.includes('strictness.'))).toBe(false);
  });

  it('fails the right checks against a target that accepts everything with an unsigned receipt', async () => {
    const run = await kit('--target', fakeUrl, '--partner', 'PE', '--json');
    expect(run.code, run.stderr).toBe(1);
    const result = JSON.parse(run.stdout) as KitJson;
    const status = new Map(result.results.map((r) => [r.id, r.status]));
    for (const id of [
      'transport.mtls-required',
      'transport.content-type',
      'transport.body-limit',
      'transport.duplicate-member',
      'well-known.schema',
      'strictness.bad-signature',
      'strictness.alg-none',
      'strictness.untrusted-chain',
      'strictness.receipt',
      'receipts.verifies',
      'receipts.parties',
      'duplicates.receipts-consistent',
      'duplicates.same-batch-again',
      'versions.lower',
      'feed.no-token',
      'snapshot.pages',
      'monitoring.subject-mismatch',
    ]) {
      expect({ id, status: status.get(id) }).toEqual({ id, status: 'FAIL' });
    }
    // Nothing it said was proven, so the kit believes it holds no operator to withdraw.
    expect(status.get('cleanup.withdrawn')).toBe('SKIP');
    expect(result.counts.pass).toBeLessThan(10);
    console.log(
      `non-conforming target: ${result.counts.fail} checks failed, ${fakeRequests} requests received`,
    );
    expect(fakeRequests).toBeGreaterThan(20);
  });

  it('exits 2 when the target cannot be reached or the configuration names no such partner', async () => {
    const [port] = await freePorts(1);
    const down = await kit('--target', `https://127.0.0.1:${port}/mra/v1`, '--partner', 'PE');
    expect(down.code).toBe(2);
    expect(down.stderr).toContain('cannot be reached');
    const unknown = await kit('--target', `https://127.0.0.1:${port}/mra/v1`, '--partner', 'EU');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('EU');
  });
});
