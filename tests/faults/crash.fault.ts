/**
 * docs/threats.md 58, 59 and 65 with real signals to gateway processes (support/child-gateway.ts): SIGKILL after
 * a commit and before the response; SIGKILL after a worker's side effect and before its job completed
 * (support/crash-stub.ts); SIGTERM under load.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnGateway } from '../../bench/lib/gateway-process.ts';
import type { Receipt } from '../../src/protocol/receipt.ts';
import { openPostgres } from '../../src/store/postgres.ts';
import type { Store } from '../../src/store/types.ts';
import type { TestAdmins } from '../support/admins.ts';
import { type ChildGateway, childGateway } from '../support/child-gateway.ts';
import { type CrashStub, startCrashStub } from '../support/crash-stub.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { outboxOf, waitFor } from '../support/delivery.ts';
import { freePorts, makeLinkedAdmins, newAeoId } from '../support/exchange.ts';
import { heldRecords, holdCommits } from '../support/fault-commit.ts';
import { certifyDecision, postDecisionUntilAcknowledged } from '../support/fault-replicas.ts';
import { BORDER, subscribe, webhookCounts } from '../support/fault-world.ts';
import {
  decodePayload,
  httpRequest,
  postTo,
  startTestGateway,
  type TestGateway,
} from '../support/gateway.ts';
import { freshSigned } from '../support/records.ts';
import { pooled, report } from './report.ts';

/** Redelivery waits for the killed job's lock to lapse (BullMQ's stalled-job check): tens of seconds. */
const REDELIVERY_MS = 180_000;

let admins: TestAdmins;
let db: TestDatabase;
let peStore: Store;
let pe: ChildGateway;
let cl: TestGateway;
let partnerStub: CrashStub;
let webhookStub: CrashStub;

beforeAll(async () => {
  db = await createTestDatabase();
  const [stubPort, webhookPort, apiPort, serverPort] = (await freePorts(4)) as [
    number,
    number,
    number,
    number,
  ];
  admins = await makeLinkedAdmins(['PE', 'CL'], {
    redis: true,
    edit: (id, raw) => {
      raw.outbound = {
        ...raw.outbound,
        batchSize: 25,
        attempts: 8,
        backoffMs: 200,
        maxBackoffMs: 1_000,
        requestTimeoutMs: 10_000,
        relayIntervalMs: 200,
      };
      if (id !== 'PE') return;
      raw.server = { ...raw.server, port: serverPort };
      raw.api = { ...raw.api, port: apiPort };
      raw.partners.find((p) => p.adminId === 'CL')!.endpoint = `http://127.0.0.1:${stubPort}/mra/v1`;
      raw.apiClients = [
        ...(raw.apiClients ?? []),
        { id: 'border', tokenSha256: createHashHex(BORDER), scopes: ['border'] },
      ];
    },
  });
  cl = await startTestGateway(admins.get('CL').config, 'postgres');
  partnerStub = await startCrashStub(stubPort, async (body) => {
    const res = await postTo(`${cl.url}/mra/v1/records`, body);
    return { status: res.status, body: res.text };
  });
  webhookStub = await startCrashStub(webhookPort, async () => ({ status: 204, body: '' }));
  pe = childGateway({
    configPath: admins.get('PE').configPath,
    databaseUrl: db.url,
    serverPort,
    apiPort,
    env: { LOG_LEVEL: 'silent' },
  });
  peStore = openPostgres({ connectionString: db.url });
  await pe.start();
}, 180_000);

afterAll(async () => {
  await pe?.kill();
  await partnerStub?.close();
  await webhookStub?.close();
  await cl?.close();
  await peStore?.close();
  await db?.drop();
  admins?.cleanup();
});

function createHashHex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

const outcomesOf = (answer: string) =>
  (decodePayload((JSON.parse(answer) as { receipt: string }).receipt) as Receipt).results.map(
    (r) => r.outcome,
  );

describe('gateway processes killed and stopped', () => {
  it('G58 SIGKILL after commit, before the response: the retry gets duplicate, one row each', async () => {
    const signer = admins.get('CL').config.home.signers[0]!;
    // Some batches go through first; the next one's COMMIT is held, the process frozen, the commit let through.
    const before = await Promise.all(Array.from({ length: 10 }, () => freshSigned('CL', signer, 10)));
    for (const b of before)
      expect((await postTo(`${pe.url}/mra/v1/records`, { records: b.jws })).status).toBe(200);
    const hold = await holdCommits(db.url);
    const { records, jws } = await freshSigned('CL', signer, 20);
    const body = JSON.stringify({ records: jws });
    const first = postTo(`${pe.url}/mra/v1/records`, body).then(
      (res) => `answered ${res.status}`,
      () => 'cut',
    );
    await hold.waiting();
    pe.freeze();
    await hold.release();
    await waitFor('the commit visible', async () =>
      (await heldRecords(
        peStore,
        records.map((r) => r.recordId),
      )) === 20
        ? true
        : undefined,
    );
    await pe.kill();
    expect(await first).toBe('cut');
    await pe.start();
    const retry = await postTo(`${pe.url}/mra/v1/records`, body);
    expect(retry.status).toBe(200);
    const outcomes = outcomesOf(retry.text);
    expect(outcomes).toEqual(records.map(() => 'duplicate'));
    const all = [...before.flatMap((b) => b.records), ...records].map((r) => r.recordId);
    const rows = await peStore.query<{ n: string }>(
      'SELECT count(*)::text AS n FROM inbound_record WHERE record_id::text IN (SELECT jsonb_array_elements_text($1::jsonb)) GROUP BY record_id',
      [JSON.stringify(all)],
    );
    expect(rows.length).toBe(all.length);
    expect(rows.every((r) => r.n === '1')).toBe(true);
    report(
      'G58',
      `SIGKILL after commit before the response: ${before.length} batches before, the held batch of 20 committed ` +
        `and its connection cut; after restart the byte-identical retry got ${outcomes.length} duplicate outcomes; ` +
        `${rows.length} of ${all.length} records held once, 0 twice, 0 lost`,
    );
  });

  it('G59 SIGKILL after the side effect, before the job completed: redelivered, applied once', async () => {
    // Deliveries: 40 decisions go through; then the next batch to CL is stored by CL and PE dies before reading
    // the receipt. The national system keeps posting (and retrying what was cut) while PE is restarted.
    const post = () => {
      const aeoId = newAeoId('PE');
      return postDecisionUntilAcknowledged(pe.apiUrl, certifyDecision(aeoId, 'PE'), 90);
    };
    const acked = await pooled(40, 4, post);
    await waitFor('the first 40 delivered', async () => {
      const o = await outboxOf(peStore, 'CL');
      return o.length >= 40 && o.every((r) => r.state === 'delivered') ? true : undefined;
    });
    const crashed = partnerStub.arm(pe);
    const restarted = crashed.then(() => pe.start());
    acked.push(...(await pooled(40, 4, post)));
    await restarted;
    // Decisions refused while PE was dead are posted again, as the national system would.
    const ackedIds = new Set(acked.map((p) => p.recordId));
    const rows = await waitFor(
      'every acknowledged decision delivered',
      async () => {
        const o = await outboxOf(peStore, 'CL');
        const mine = o.filter((r) => ackedIds.has(r.recordId));
        return mine.length === acked.length && mine.every((r) => r.state === 'delivered') ? mine : undefined;
      },
      REDELIVERY_MS,
      250,
    );
    const bodies = partnerStub.seen.map((s) => s.body);
    const resentBatches = bodies.length - new Set(bodies).size;
    const held = await cl.store.query<{ record_id: string; n: string }>(
      `SELECT record_id::text, count(*)::text AS n FROM inbound_record WHERE issuer = 'PE' GROUP BY record_id`,
    );
    const heldOnce = held.filter((h) => ackedIds.has(h.record_id) && h.n === '1').length;
    expect(heldOnce).toBe(acked.length);
    expect(held.every((h) => h.n === '1')).toBe(true);
    expect(resentBatches).toBeGreaterThanOrEqual(1);
    const duplicates = rows.filter((r) => r.outcome === 'duplicate').length;

    // Notifications: the receiver answered 2xx, and PE dies before completing the job.
    await subscribe(pe.apiUrl, webhookStub.url('/border'));
    const hookCrash = webhookStub.arm(pe);
    const signer = admins.get('CL').config.home.signers[0]!;
    const pushedIds: string[] = [];
    for (let i = 0; i < 10; i += 1) {
      const { records, jws } = await freshSigned('CL', signer, 5);
      const res = await postTo(`${pe.url}/mra/v1/records`, { records: jws }).catch(() => undefined);
      if (res?.status !== 200) break;
      pushedIds.push(...records.map((r) => r.operator.aeoId));
    }
    await hookCrash;
    await pe.start();
    // The job in hand when PE died may have posted every row of it already; its rows go out again once its
    // lock has lapsed, so the wait is for that resend too.
    await waitFor(
      'every notification at the receiver, and the cut job resent',
      async () => {
        const got = webhookStub.seen.map((s) => ({ path: s.path, headers: s.headers, body: s.body }));
        const counts = webhookCounts(got, pushedIds);
        return counts.operators === pushedIds.length && counts.resent >= 1 ? true : undefined;
      },
      REDELIVERY_MS,
      250,
    );
    const hooks = webhookCounts(
      webhookStub.seen.map((s) => ({ path: s.path, headers: s.headers, body: s.body })),
      pushedIds,
    );
    expect(hooks.differing).toBe(0);
    expect(hooks.resent).toBeGreaterThanOrEqual(1);
    report(
      'G59',
      `SIGKILL after the side effect: ${acked.length} decisions acknowledged, ${rows.length} delivered, ` +
        `${resentBatches} batch resent with identical bytes (${duplicates} answered duplicate), ${heldOnce} held once ` +
        `at the partner, 0 twice, 0 lost; ${pushedIds.length} partner records, ${hooks.events} webhooks, ` +
        `${hooks.resent} resent with the same webhook-id and bytes, applied once`,
    );
  });

  it('G65 SIGTERM under load: in flight finish or 503, exits by itself, everything acknowledged kept', async () => {
    await pe.stop();
    const p = spawnGateway(admins.get('PE').configPath, {
      databaseUrl: db.url,
      env: { LOG_LEVEL: 'silent' },
    });
    let exitAt = 0;
    const exited = new Promise<number | null>((resolve) =>
      p.child.once('exit', (code) => {
        exitAt = Date.now();
        resolve(code);
      }),
    );
    try {
      await waitFor('PE up', async () =>
        (await httpRequest(`${pe.url}/health/live`, { method: 'GET' }).catch(() => undefined))?.status === 200
          ? true
          : undefined,
      );
      const signer = admins.get('CL').config.home.signers[0]!;
      const batches = await Promise.all(Array.from({ length: 24 }, () => freshSigned('CL', signer, 50)));
      const counts = { receipts: 0, unavailable: 0, cut: 0 };
      const acked: string[] = [];
      let sent = 0;
      let termAt = 0;
      await pooled(batches.length, 4, async (i) => {
        const res = await postTo(`${pe.url}/mra/v1/records`, { records: batches[i]!.jws }).catch(
          () => undefined,
        );
        if (res === undefined) counts.cut += 1;
        else if (res.status === 200) {
          counts.receipts += 1;
          acked.push(...batches[i]!.records.map((r) => r.recordId));
        } else {
          expect(res.status).toBe(503);
          counts.unavailable += 1;
        }
        sent += 1;
        if (sent === 3) {
          termAt = Date.now();
          p.child.kill('SIGTERM');
        }
      });
      const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('hung'), 60_000))]);
      expect(code).toBe(0);
      const exitMs = exitAt - termAt;
      expect(counts.receipts + counts.unavailable + counts.cut).toBe(batches.length);
      expect(counts.unavailable + counts.cut).toBeGreaterThan(0);
      const stored = await heldRecords(peStore, acked);
      expect(stored).toBe(acked.length);
      report(
        'G65',
        `SIGTERM under load: ${batches.length} batches of 50 from 4 senders, ${counts.receipts} receipts, ` +
          `${counts.unavailable} answered 503, ${counts.cut} connections closed, 0 hung; exited by itself with code ${code} ` +
          `${exitMs} ms after SIGTERM; ${stored} of ${acked.length} acknowledged records stored, 0 lost`,
      );
    } finally {
      if (p.child.exitCode === null) p.child.kill('SIGKILL');
    }
  });
});
