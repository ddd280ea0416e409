/**
 * docs/threats.md 65: SIGTERM to a gateway process under load. New requests are refused, requests in flight finish
 * (a verified receipt) or are refused (503 or a closed connection, never a hang), the process exits by itself,
 * and every record a receipt acknowledged is in the database afterwards (I1, I2).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleRecord } from '../../src/cli/samples.ts';
import { createPartnerClient, type SendResult } from '../../src/partner-client/client.ts';
import { signRecord } from '../../src/publishing/sign-record.ts';
import { openPostgres } from '../../src/store/postgres.ts';
import { makeAdmins, type TestAdmins } from '../support/admins.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { freePorts } from '../support/exchange.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let admins: TestAdmins;
let db: TestDatabase;
let port: number;

beforeAll(async () => {
  db = await createTestDatabase();
  [port] = (await freePorts(1)) as [number];
  admins = makeAdmins(['PE', 'CL'], {
    edit: (id, raw) => {
      if (id === 'CL') raw.server = { ...raw.server, port };
      else for (const p of raw.partners) p.endpoint = `http://127.0.0.1:${port}/mra/v1`;
      raw.outbound = { pullIntervalMs: 0, reconcileIntervalMs: 0 };
    },
  });
}, 180_000);
afterAll(async () => {
  await db?.drop();
  admins?.cleanup();
});

function serve(): { child: ChildProcess; exited: Promise<number | null> } {
  const child = spawn(
    process.execPath,
    ['src/cli/main.ts', 'serve', '--config', admins.get('CL').configPath],
    {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'silent' },
      stdio: 'ignore',
    },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited };
}

describe('SIGTERM under load', () => {
  it('finishes or refuses every request, exits, and keeps everything it acknowledged', async () => {
    const { child, exited } = serve();
    const pe = admins.get('PE').config;
    const cl = pe.partners.find((p) => p.adminId === 'CL')!;
    const client = createPartnerClient('PE', cl, { timeoutMs: 20_000 });
    try {
      const deadline = Date.now() + 30_000;
      while ((await client.getJson('/.well-known/mra-gateway').catch(() => ({ status: 0 }))).status !== 200) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error('the gateway did not start');
        await new Promise((r) => setTimeout(r, 100));
      }
      const signer = pe.home.signers[0]!;
      const batches = await Promise.all(
        Array.from({ length: 16 }, (_, b) =>
          Promise.all(
            Array.from({ length: 100 }, (_, i) => signRecord(sampleRecord('PE', b * 100 + i), signer)),
          ),
        ),
      );
      // Four senders in parallel; SIGTERM once the first receipts are back.
      const results: (SendResult | Error)[] = [];
      let acknowledged = 0;
      const sent = Promise.all(
        [0, 1, 2, 3].map(async (lane) => {
          for (let b = lane; b < batches.length; b += 4) {
            const r = await client.sendRecords(batches[b]!).catch((e: unknown) => e as Error);
            results[b] = r;
            if (!(r instanceof Error) && r.ok && ++acknowledged === 2) child.kill('SIGTERM');
          }
        }),
      );
      await sent;
      const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('hung'), 15_000))]);
      expect(code).toBe(0);

      const ok = results.filter((r): r is Extract<SendResult, { ok: true }> => !(r instanceof Error) && r.ok);
      const refused = results.filter((r) => r instanceof Error || !r.ok);
      expect(ok.length).toBeGreaterThanOrEqual(2);
      expect(refused.length).toBeGreaterThanOrEqual(1);
      expect(ok.length + refused.length).toBe(batches.length);
      for (const r of refused) if (!(r instanceof Error) && !r.ok) expect(r.status).toBe(503);
      // Every acknowledged record is stored (I1), and nothing was stored without a receipt being signed (I2).
      const store = openPostgres({ connectionString: db.url });
      try {
        const ackedIds = ok.flatMap((r) => r.receipt.results.map((x) => x.recordId!));
        const [row] = await store.query<{ n: string }>(
          'SELECT count(*)::text AS n FROM inbound_record WHERE record_id::text IN (SELECT jsonb_array_elements_text($1::jsonb))',
          [JSON.stringify(ackedIds)],
        );
        expect(Number(row!.n)).toBe(ackedIds.length);
        const [receipts] = await store.query<{ n: string }>(
          'SELECT count(*)::text AS n FROM inbound_receipt',
        );
        const [records] = await store.query<{ n: string }>('SELECT count(*)::text AS n FROM inbound_record');
        // A batch committed just as its connection closed leaves a receipt the sender never saw; its records are
        // stored with that receipt, and the sender's retry gets `duplicate` outcomes.
        expect(Number(records!.n)).toBe(Number(receipts!.n) * 100);
      } finally {
        await store.close();
      }
    } finally {
      await client.close();
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 180_000);
});
