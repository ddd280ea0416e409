/**
 * docs/threats.md 59 with a real SIGKILL: the gateway process (PE) is killed after its worker's side effect and
 * before the job completed. For a delivery, the partner (CL, a real gateway behind a stub in the test process)
 * stored the batch and answered with its receipt; for a notification, the border system's receiver got it and
 * answered 2xx. PE is stopped before the answer is written and killed once it is on its way (see
 * support/crash-stub.ts), so it never learns the outcome. Restarted on the same database and queues, it
 * delivers again: the partner answers `duplicate` and holds one row; the receiver gets the same webhook-id,
 * which lets it apply the event once, as docs/notifications.md tells receivers to.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres } from '../../src/store/postgres.ts';
import type { Store } from '../../src/store/types.ts';
import type { TestAdmins } from '../support/admins.ts';
import { type ChildGateway, childGateway } from '../support/child-gateway.ts';
import { type CrashStub, startCrashStub } from '../support/crash-stub.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { heldAt, outboxOf, waitFor } from '../support/delivery.ts';
import { API_TOKENS, bearer, freePorts, makeLinkedAdmins, newAeoId } from '../support/exchange.ts';
import {
  decodePayload,
  httpRequest,
  postTo,
  startTestGateway,
  type TestGateway,
} from '../support/gateway.ts';
import { freshSigned } from '../support/records.ts';

const BORDER_TOKEN = randomBytes(32).toString('base64url');
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
        batchSize: 50,
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
        {
          id: 'border-risk',
          tokenSha256: createHash('sha256').update(BORDER_TOKEN).digest('hex'),
          scopes: ['border'],
        },
      ];
    },
  });
  cl = await startTestGateway(admins.get('CL').config, 'postgres');
  partnerStub = await startCrashStub(stubPort, async (body) => {
    const res = await postTo(`${cl.url}/mra/v1/records`, body);
    return { status: res.status, body: res.text };
  });
  webhookStub = await startCrashStub(webhookPort, async () => ({ status: 204, body: '' }));
  pe = childGateway({ configPath: admins.get('PE').configPath, databaseUrl: db.url, serverPort, apiPort });
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

async function decide(aeoId: string): Promise<string> {
  const res = await postTo(
    `${pe.apiUrl}/api/v1/decisions`,
    {
      decisionId: crypto.randomUUID(),
      aeoId,
      decision: 'certify',
      consent: true,
      programme: 'AEO-F',
      certifiedOn: '2025-03-01',
      operator: {
        identifiers: [{ scheme: 'TIN', value: `${aeoId}T` }],
        name: `Operator ${aeoId}`,
        address: { street: 'Av. Argentina 123', city: 'Callao', country: 'PE' },
        roles: ['exporter', 'manufacturer'],
      },
    },
    { headers: bearer(API_TOKENS.operator) },
  );
  expect(res.status, res.text.slice(0, 300)).toBe(201);
  return (JSON.parse(res.text) as { record: { recordId: string } }).record.recordId;
}

const outcomesOf = (answer: string) =>
  (
    decodePayload((JSON.parse(answer) as { receipt: string }).receipt) as { results: { outcome: string }[] }
  ).results.map((r) => r.outcome);

describe('a delivery worker killed after the partner stored the batch', () => {
  it('delivers again after restart; the partner answers duplicate and holds the record once', async () => {
    const crashed = partnerStub.arm(pe);
    const aeoId = newAeoId('PE');
    const recordId = await decide(aeoId);
    await crashed;
    // The partner has it; the sender died before it could know.
    expect((await heldAt(cl.store, 'PE', [aeoId])).evidence.get(recordId)).toBe(1);
    expect(partnerStub.seen).toHaveLength(1);
    expect(outcomesOf(partnerStub.seen[0]!.answer)).toEqual(['accepted']);
    const [row] = (await outboxOf(peStore, 'CL')).filter((r) => r.recordId === recordId);
    expect(row?.state).not.toBe('delivered');

    await pe.start();
    const delivered = await waitFor(
      'the outbox row delivered after the restart',
      async () => {
        const [r] = (await outboxOf(peStore, 'CL')).filter((o) => o.recordId === recordId);
        return r?.state === 'delivered' ? r : undefined;
      },
      REDELIVERY_MS,
      200,
    );
    expect(delivered.receiptId).not.toBeNull();
    // Sent again byte for byte (I4); the partner said duplicate and applied it once (I3).
    expect(partnerStub.seen).toHaveLength(2);
    expect(partnerStub.seen[1]!.body).toBe(partnerStub.seen[0]!.body);
    expect(outcomesOf(partnerStub.seen[1]!.answer)).toEqual(['duplicate']);
    const held = await heldAt(cl.store, 'PE', [aeoId]);
    expect([...held.evidence]).toEqual([[recordId, 1]]);
    expect(held.current.get(aeoId)?.version).toBe(1);
  }, 300_000);
});

describe('a notification worker killed after the receiver answered 2xx', () => {
  it('sends it again after restart with the same webhook-id, so the receiver applies it once', async () => {
    const sub = await postTo(
      `${pe.apiUrl}/api/v1/subscriptions`,
      { url: webhookStub.url('/border') },
      { headers: bearer(BORDER_TOKEN) },
    );
    expect(sub.status, sub.text.slice(0, 300)).toBe(201);

    const crashed = webhookStub.arm(pe);
    const { records, jws } = await freshSigned('CL', admins.get('CL').config.home.signers[0]!);
    const res = await postTo(`${pe.url}/mra/v1/records`, { records: jws });
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    await crashed;
    expect(webhookStub.seen).toHaveLength(1);

    await pe.start();
    await waitFor(
      'the notification delivered after the restart',
      async () => {
        const [n] = await peStore.query<{ state: string }>(
          'SELECT state, attempts, last_error, enqueued_at, job_id FROM notification WHERE aeo_id = $1',
          [records[0]!.operator.aeoId],
        );
        // Thrown, so that a timeout says where the row stood.
        if (n?.state !== 'delivered') throw new Error(`row: ${JSON.stringify(n)}`);
        return true;
      },
      REDELIVERY_MS,
      200,
    );
    const got = webhookStub.seen.filter((s) => s.path === '/border');
    expect(got).toHaveLength(2);
    expect(got[1]!.headers['webhook-id']).toBe(got[0]!.headers['webhook-id']);
    expect(got[1]!.body).toBe(got[0]!.body);
    // The receiver's side, as docs/notifications.md describes it: an id seen before is dropped.
    const applied = new Set<string>();
    for (const r of got) applied.add(String(r.headers['webhook-id']));
    expect(applied.size).toBe(1);
    expect(JSON.parse(got[0]!.body)).toMatchObject({
      type: 'benefits.started',
      data: { issuer: 'CL', aeoId: records[0]!.operator.aeoId, version: records[0]!.version },
    });
    const live = await httpRequest(`${pe.apiUrl}/health/live`, { method: 'GET' });
    expect(live.status).toBe(200);
    await pe.stop();
  }, 300_000);
});
