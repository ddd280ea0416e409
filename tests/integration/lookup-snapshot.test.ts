/**
 * The read model started from its snapshot in PostgreSQL: the same model as a load of the evidence, caught up
 * with what was received after its mark, and never trusted when stale, damaged or of another format.
 */
import { createHash } from 'node:crypto';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { loadAll } from '../../src/lookup/load.ts';
import { ReadModel } from '../../src/lookup/read-model.ts';
import { saveSnapshot, startFromSnapshot } from '../../src/lookup/snapshot.ts';
import { loadReadModel } from '../../src/lookup/snapshot-load.ts';
import { MAX_SNAPSHOT_BYTES, writeSnapshot } from '../../src/lookup/snapshot-store.ts';
import { LOCKS } from '../../src/store/locks.ts';
import { openStore } from '../../src/store/open.ts';
import type { Row, Store } from '../../src/store/types.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import {
  describeModel,
  emptyEvidence,
  type GenVersion,
  versionsArb,
  writeVersions,
} from '../support/read-model.ts';
import { withLengths } from '../support/snapshot-bytes.ts';

let db: TestDatabase;
let store: Store;
beforeAll(async () => {
  db = await createTestDatabase();
  store = await openStore({ kind: 'postgres', databaseUrl: db.url });
});
afterAll(async () => {
  await store.close();
  await db.drop();
});
beforeEach(() => emptyEvidence(store));

async function loaded(): Promise<ReadModel> {
  const model = new ReadModel();
  await loadAll(store, model, 7);
  return model;
}

async function fromSnapshot(): Promise<ReadModel> {
  const started = await startFromSnapshot(store);
  if (!('model' in started)) throw new Error(started.reason);
  return started.model;
}

const sample = (seed: number) => fc.sample(versionsArb, { numRuns: 1, seed })[0]!;
const NOW = Date.now();
/** Other versions of the same operators, received from `from` on, with record ids of their own. */
const later = (versions: GenVersion[], from: number) =>
  versions.map((v, i) => ({
    ...v,
    version: v.version + 10,
    recordId: `${v.recordId.slice(0, 24)}${createHash('sha256').update(`${v.recordId}later`).digest('hex').slice(0, 12)}`,
    receivedAt: from + i,
  }));

describe('read model snapshot in PostgreSQL', () => {
  it('starts the same model as a load of the evidence (varied operators and versions)', async () => {
    await fc.assert(
      fc.asyncProperty(versionsArb, async (versions) => {
        await emptyEvidence(store);
        await writeVersions(store, versions);
        const model = await loaded();
        expect((await saveSnapshot(store, model, NOW)).outcome).toBe('written');
        expect(describeModel(await fromSnapshot())).toEqual(describeModel(model));
      }),
      { numRuns: 12 },
    );
  });

  it('catches up with what was received after its mark', async () => {
    const first = sample(1);
    await writeVersions(store, first);
    const mark = NOW - 60_000;
    await saveSnapshot(store, await loaded(), mark);
    await writeVersions(store, later(first.slice(0, 5), mark));
    const started = await startFromSnapshot(store);
    if (!('model' in started)) throw new Error(started.reason);
    expect(started.caughtUp).toBe(Math.min(5, first.length));
    expect(describeModel(started.model)).toEqual(describeModel(await loaded()));
  });

  it('is not used when the database holds other versions before its mark, and says why', async () => {
    const first = sample(2);
    await writeVersions(store, first);
    const mark = NOW - 60_000;
    await saveSnapshot(store, await loaded(), mark);
    // A batch received before the mark but committed after the snapshot: the snapshot cannot have it.
    await writeVersions(store, later(first.slice(0, 1), mark - 5_000));
    expect(await startFromSnapshot(store)).toEqual({ reason: expect.stringMatching(/^snapshot stale: /) });

    // The same number of versions before the mark, but not the same ones (a database whose rows were replaced).
    await emptyEvidence(store);
    await writeVersions(store, first);
    await saveSnapshot(store, await loaded(), mark);
    await store.query(`DELETE FROM operator_identifier`);
    await store.query(`DELETE FROM operator_state`);
    await store.query(`DELETE FROM inbound_record`);
    await writeVersions(store, later(first, mark - 100_000 - first.length));
    const stale = await startFromSnapshot(store);
    expect(stale).toEqual({ reason: 'snapshot stale: other versions before its mark in the database' });
  });

  it('is ignored when damaged, of another format or incomplete', async () => {
    await writeVersions(store, sample(3));
    await saveSnapshot(store, await loaded(), NOW);
    await store.query(
      `UPDATE read_model_snapshot_part SET bytes = overlay(bytes placing '\\x00ff'::bytea from 200 for 2) WHERE part = 0`,
    );
    expect(await startFromSnapshot(store)).toEqual({ reason: 'snapshot checksum mismatch' });
    // Bytes that match their checksum but are no snapshot: refused by the decoder, never trusted.
    await store.query(`UPDATE read_model_snapshot_part SET bytes = '\\x00010203'::bytea`);
    await store.query(
      `UPDATE read_model_snapshot SET byte_length = 4, parts = 1, sha256 = encode(sha256('\\x00010203'::bytea), 'hex')`,
    );
    await store.query('DELETE FROM read_model_snapshot_part WHERE part > 0');
    expect(await startFromSnapshot(store)).toEqual({
      reason: expect.stringMatching(/^snapshot unreadable: /),
    });
    await store.query('UPDATE read_model_snapshot SET format = format + 1');
    expect(await startFromSnapshot(store)).toEqual({ reason: expect.stringMatching(/^snapshot of format/) });
    await store.query('UPDATE read_model_snapshot SET format = format - 1');
    await store.query('DELETE FROM read_model_snapshot_part');
    expect(await startFromSnapshot(store)).toEqual({ reason: 'snapshot replaced while it was read' });
    await store.query('DELETE FROM read_model_snapshot');
    expect(await startFromSnapshot(store)).toEqual({ reason: 'no snapshot' });
  });

  it('applies what retention removed after it was written: a redacted operator keeps no identifier', async () => {
    const versions = sample(4).filter((v) => v.identifiers.length > 0);
    await writeVersions(store, versions);
    await saveSnapshot(store, await loaded(), NOW);
    const { issuer, aeoId } = versions[0]!;
    await store.query('UPDATE operator_state SET redacted_at = now() WHERE issuer = $1 AND aeo_id = $2', [
      issuer,
      aeoId,
    ]);
    await store.query('DELETE FROM operator_identifier WHERE issuer = $1 AND aeo_id = $2', [issuer, aeoId]);
    expect(describeModel(await fromSnapshot())).toEqual(describeModel(await loaded()));
  });

  it('is written once by processes stopping together, and replaced only by one that holds more', async () => {
    await writeVersions(store, sample(5));
    const model = await loaded();
    expect((await saveSnapshot(store, model, NOW)).outcome).toBe('written');
    // The held one is read first: nothing is encoded when it covers.
    expect(await saveSnapshot(store, model, NOW + 1)).toEqual({ outcome: 'held-covers', bytes: 0 });
    expect((await saveSnapshot(store, model, NOW + 1, true)).outcome).toBe('written');
    const [head] = await store.query<{ generation: string }>('SELECT generation FROM read_model_snapshot');
    expect(head?.generation).toBe('2');
  });

  it('has a lock of its own: publishing does not make it busy, and it does not hold publishing back', async () => {
    await writeVersions(store, sample(6));
    const model = await loaded();
    const held = (key: number, work: () => Promise<void>) =>
      store.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock($1)', [key]);
        await work();
      });
    await held(LOCKS.publish, async () => {
      expect((await saveSnapshot(store, model, NOW, true)).outcome).toBe('written');
    });
    await held(LOCKS.readModelSnapshot, async () => {
      expect(
        await writeSnapshot(store, Buffer.from('x'), { markMs: NOW, versions: 1, operators: 1 }, true),
      ).toBe('busy');
      const [free] = await store.transaction((tx) =>
        tx.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [LOCKS.publish]),
      );
      expect(free?.ok).toBe(true);
    });
  });
});

describe('a damaged or hostile snapshot: the start loads from the database instead', () => {
  const startModel = async (from: Store = store) => {
    const started = await loadReadModel({
      store: from,
      log: createLogger('silent'),
      useSnapshot: true,
      pageSize: 7,
      signal: new AbortController().signal,
      onState: () => {},
    });
    expect(started.fromSnapshot).toBe(false);
    expect(describeModel(started.model)).toEqual(describeModel(await loaded()));
  };
  /** Replaces the stored bytes (one part) and their head, checksum included, as a writer of the table could. */
  const storeBytes = async (bytes: Buffer) => {
    await store.query('DELETE FROM read_model_snapshot_part WHERE part > 0');
    await store.query('UPDATE read_model_snapshot_part SET bytes = $1', [bytes]);
    await store.query('UPDATE read_model_snapshot SET byte_length = $1, parts = 1, sha256 = $2', [
      bytes.length,
      createHash('sha256').update(bytes).digest('hex'),
    ]);
  };
  const storedBytes = async () => {
    const parts = await store.query<{ bytes: Buffer }>(
      'SELECT bytes FROM read_model_snapshot_part ORDER BY part',
    );
    return Buffer.concat(parts.map((p) => p.bytes));
  };

  it('a head with an absurd byte length', async () => {
    await writeVersions(store, sample(7));
    await saveSnapshot(store, await loaded(), NOW);
    const absurd = 2 ** 42;
    await store.query('UPDATE read_model_snapshot SET byte_length = $1, parts = $2', [
      absurd,
      absurd / 2 ** 20,
    ]);
    expect(await startFromSnapshot(store)).toEqual({ reason: 'snapshot head inconsistent' });
    await startModel();
  });

  it('a part that decompresses past the stored length, or to less', async () => {
    await writeVersions(store, sample(8));
    await saveSnapshot(store, await loaded(), NOW);
    const bytes = await storedBytes();
    const length = bytes.readBigUInt64BE(0);
    bytes.writeBigUInt64BE(length - 1n, 0);
    await storeBytes(bytes);
    expect(await startFromSnapshot(store)).toEqual({
      reason: expect.stringMatching(/^snapshot unreadable: /),
    });
    await startModel();
    bytes.writeBigUInt64BE(length + 1n, 0);
    await storeBytes(bytes);
    expect(await startFromSnapshot(store)).toEqual({
      reason: `snapshot unreadable: decoded ${length} bytes, ${length + 1n} stored`,
    });
    bytes.writeBigUInt64BE(2n ** 40n, 0);
    await storeBytes(bytes);
    expect(await startFromSnapshot(store)).toEqual({
      reason: `snapshot unreadable: decoded length ${2 ** 40} out of bounds`,
    });
    await startModel();
  });

  it('a head counting more than the database holds, or a header stating more than the head counts', async () => {
    await writeVersions(store, sample(10));
    await saveSnapshot(store, await loaded(), NOW);
    await store.query('UPDATE read_model_snapshot SET operators = -1');
    expect(await startFromSnapshot(store)).toEqual({ reason: 'snapshot head inconsistent' });
    await store.query('UPDATE read_model_snapshot SET operators = versions, versions = versions + 1000000');
    const more = { reason: 'snapshot holds more versions than the database' };
    expect(await startFromSnapshot(store)).toEqual(more);
    await startModel();
    await saveSnapshot(store, await loaded(), NOW, true);
    // Gigabytes of rows stated, within the largest decoded length: refused before a column is allocated.
    const raw = zlib.zstdDecompressSync((await storedBytes()).subarray(8));
    const packed = zlib.zstdCompressSync(withLengths(raw, { rows: 3 * 2 ** 30 }));
    const stored = Buffer.alloc(8 + packed.length);
    stored.writeBigUInt64BE(BigInt(MAX_SNAPSHOT_BYTES), 0);
    packed.copy(stored, 8);
    await storeBytes(stored);
    expect(await startFromSnapshot(store)).toEqual({
      reason: 'snapshot unreadable: snapshot: column rows larger than its counts allow',
    });
    await startModel();
  });

  it('a throw on the way', async () => {
    await writeVersions(store, sample(9));
    await saveSnapshot(store, await loaded(), NOW);
    const throwing: Store = {
      ...store,
      async query<R = Row>(text: string, params?: readonly unknown[]): Promise<R[]> {
        if (/redacted_at IS NOT NULL/.test(text)) throw new RangeError('no room');
        return store.query<R>(text, params);
      },
    };
    await startModel(throwing);
  });
});
