/**
 * The listeners open before the read model is loaded: readiness answers 503 with the load's progress, lookups
 * answer 503 NOT_READY with Retry-After (never "not recognised"), records are received meanwhile, and nothing
 * committed during the load is lost once it is done.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ComposedGateway, composeGateway } from '../../src/compose.ts';
import { createLogger } from '../../src/log.ts';
import { startLookup } from '../../src/lookup/service.ts';
import { startFromSnapshot } from '../../src/lookup/snapshot.ts';
import { openStore } from '../../src/store/open.ts';
import type { Row, Store } from '../../src/store/types.ts';
import { expectProblem } from '../support/gateway.ts';
import { injectClient } from '../support/inject.ts';
import { apiGet, bearer, type LookupSetup, lookupOne, makeLookupSetup, TOKENS } from '../support/lookup.ts';
import { describeModel, writeVersions } from '../support/read-model.ts';
import { freshRecord } from '../support/records.ts';

let setup: LookupSetup;
let store: Store;
beforeAll(async () => {
  setup = await makeLookupSetup();
  store = await openStore({ kind: 'postgres', databaseUrl: setup.db.url });
});
afterAll(async () => {
  await store?.close();
  await setup?.close();
});

/** `store`, but a statement matching `match` waits for `gate` before (or after) it runs. */
function gated(match: RegExp, gate: Promise<void>, when: 'before' | 'after'): Store {
  return {
    kind: store.kind,
    async query<R = Row>(text: string, params?: readonly unknown[]): Promise<R[]> {
      if (when === 'before' && match.test(text)) await gate;
      const rows = await store.query<R>(text, params);
      if (when === 'after' && match.test(text)) await gate;
      return rows;
    },
    exec: (script) => store.exec(script),
    transaction: (work) => store.transaction(work),
    ping: () => store.ping(),
    close: async () => {},
  };
}

const opened = () => {
  let open: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { gate, open };
};

describe('while the read model loads', () => {
  it('readiness is 503 with its progress, lookups are 503 NOT_READY, records are received', async () => {
    const { gate, open } = opened();
    const log = createLogger('silent');
    const record = freshRecord('CL');
    const gateway: ComposedGateway = await composeGateway(setup.config, {
      store: gated(/FROM read_model_snapshot ORDER BY/, gate, 'before'),
      ownsStore: false,
      log,
    });
    try {
      const replica = {
        store,
        partner: injectClient(gateway.app),
        api: injectClient(gateway.apiApp),
        close: () => gateway.close(),
      };
      const ready = await replica.api.request('/health/ready', { method: 'GET' });
      expect(ready.status).toBe(503);
      expect(JSON.parse(ready.text)).toMatchObject({
        status: 'not-ready',
        database: true,
        readModel: { state: 'loading', source: 'snapshot', operators: 0 },
      });
      // The partner listener stays ready: records are received during the load.
      const partnerReady = await replica.partner.request('/health/ready', { method: 'GET' });
      expect(partnerReady.status).toBe(200);
      expect(JSON.parse(partnerReady.text)).not.toHaveProperty('readModel');
      const refused = await apiGet(replica, `/operators/CL/${record.operator.aeoId}`);
      expectProblem(refused, 503, 'NOT_READY');
      expect(refused.headers['retry-after']).toBe('1');
      const batch = await replica.api.post(
        '/api/v1/operators/lookup',
        { items: [{ issuer: 'CL', aeoId: record.operator.aeoId }] },
        { headers: bearer(TOKENS.border) },
      );
      expectProblem(batch, 503, 'NOT_READY');

      // The partner's batch is received and acknowledged during the load.
      const sent = await setup.send(replica, [record]);
      expect(sent.results.map((r) => r.outcome)).toEqual(['accepted']);

      open();
      await gateway.readModelLoaded;
      expect((await replica.api.request('/health/ready', { method: 'GET' })).status).toBe(200);
      const answer = await lookupOne(replica, 'CL', record.operator.aeoId);
      expect(answer.operator?.version).toBe(record.version);
    } finally {
      open();
      await gateway.close();
    }
    // Its close wrote the snapshot, with the version applied from the batch as PostgreSQL holds it.
    const next = await startFromSnapshot(store);
    if (!('model' in next)) throw new Error(next.reason);
    expect(next.model.find('CL', record.operator.aeoId)).toBeDefined();
  });

  it('applies every change committed during the load, whether it waited in memory or only reached the database', async () => {
    await store.query('TRUNCATE read_model_snapshot CASCADE');
    const { gate, open } = opened();
    // The load reads its first page of operators, then waits: what is committed now is not in what it read.
    const service = await startLookup({
      config: setup.config,
      store: gated(/FROM operator_state s JOIN inbound_record/, gate, 'after'),
      log: createLogger('silent'),
      replicate: false,
    });
    try {
      await new Promise((r) => setTimeout(r, 200));
      expect(service.loading?.source).toBe('database');
      const now = Date.now();
      // Only in memory (as a batch committed on this replica is announced), and only in the database.
      const inMemory = {
        issuer: 'CL',
        aeoId: 'CLMEMORY1',
        identifiers: [{ scheme: 'TIN', value: 'CLMEM1' }],
      };
      service.committed({
        sender: 'CL',
        receivedAt: now,
        changes: [
          {
            ...inMemory,
            version: 1,
            recordId: '0b7e2a52-6f0e-4c1e-9a43-000000000001',
            digest: Buffer.alloc(32, 1).toString('base64url'),
            status: 'certified',
            statusSince: '2026-01-01',
            programme: 'AEO-F',
            roles: ['exporter'],
          },
        ],
      });
      await writeVersions(store, [
        {
          issuer: 'CL',
          aeoId: 'CLDATABASE1',
          version: 1,
          recordId: '0b7e2a52-6f0e-4c1e-9a43-000000000002',
          digest: Buffer.alloc(32, 2).toString('base64url'),
          status: 'suspended',
          statusSince: '2026-01-01',
          programme: 'AEO-S',
          roles: ['importer'],
          receivedAt: now,
          identifiers: [{ scheme: 'TIN', value: 'CLDB1' }],
        },
      ]);
      expect(() => service.answerJson({ issuer: 'CL', aeoId: 'CLMEMORY1' }, new Date())).toThrow(/loading/);
      open();
      // Caught up before it answers: no reload needed to see either.
      await service.loaded;
      const model = service.model;
      expect(model.find('CL', 'CLMEMORY1')).toBeDefined();
      expect(model.find('CL', 'CLDATABASE1')).toBeDefined();
      expect(model.findByIdentifier('TIN', 'CLMEM1', 'CL')).toHaveLength(1);
      expect(model.findByIdentifier('TIN', 'CLDB1', 'CL')).toHaveLength(1);
      expect(service.loading).toBeUndefined();
    } finally {
      open();
      await service.close();
    }
  });

  it('drops the waiting changes past the bound and reads them from the database before it answers', async () => {
    await store.query('TRUNCATE read_model_snapshot CASCADE');
    const { gate, open } = opened();
    const service = await startLookup({
      config: setup.config,
      store: gated(/FROM operator_state s JOIN inbound_record/, gate, 'after'),
      log: createLogger('silent'),
      replicate: false,
      maxWaitingChanges: 4,
    });
    try {
      await new Promise((r) => setTimeout(r, 200));
      const now = Date.now();
      for (let n = 1; n <= 5; n += 1) {
        const version = {
          issuer: 'CL',
          aeoId: `CLFLOOD${n}`,
          version: 1,
          recordId: `0b7e2a52-6f0e-4c1e-9a43-00000000010${n}`,
          digest: Buffer.alloc(32, n).toString('base64url'),
          status: 'certified' as const,
          statusSince: '2026-01-01',
          programme: 'AEO-F' as const,
          roles: ['exporter' as const],
          receivedAt: now,
          identifiers: [{ scheme: 'TIN', value: `CLFLOOD${n}` }],
        };
        await writeVersions(store, [version]);
        const { receivedAt: _, ...change } = version;
        service.committed({ sender: 'CL', receivedAt: now, changes: [change] });
      }
      open();
      await service.loaded;
      for (let n = 1; n <= 5; n += 1) expect(service.model.find('CL', `CLFLOOD${n}`)).toBeDefined();
    } finally {
      open();
      await service.close();
    }
  });

  it('writes its snapshot at close, and the next start reads it: the same model', async () => {
    await store.query('TRUNCATE read_model_snapshot CASCADE');
    const log = createLogger('silent');
    const first = await startLookup({ config: setup.config, store, log, replicate: false });
    await first.loaded;
    const before = describeModel(first.model);
    await first.close();
    const [head] = await store.query<{ versions: string }>('SELECT versions FROM read_model_snapshot');
    expect(Number(head?.versions)).toBe(before.versions);
    const second = await startLookup({ config: setup.config, store, log, replicate: false });
    try {
      await second.loaded;
      expect(describeModel(second.model)).toEqual(before);
    } finally {
      await second.close();
    }
  });
});
