/**
 * docs/threats.md 73, defence in depth behind the date rule: should a value the schemas accept still be refused by
 * the store (a PostgreSQL data exception), only its item is refused: the record of a batch, the line of an
 * import. And an import that fails for any reason ends `failed` with the reason, never `running`. The store is
 * real PostgreSQL; the refusal is injected where the statement carries the marked value.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInboundService } from '../../src/inbound/receive.ts';
import { createLogger } from '../../src/log.ts';
import { createPublisher } from '../../src/publishing/publish.ts';
import { createRegisterImporter } from '../../src/register-import/importer.ts';
import type { Sql, Store } from '../../src/store/types.ts';
import { makeAdmins, type TestAdmins } from '../support/admins.ts';
import { openTestStore, outcomes } from '../support/gateway.ts';
import { certifyBody, freshAeoId } from '../support/publishing.ts';
import { freshRecord, signAll } from '../support/records.ts';

const MARK = 'UNSTORABLE';

/** The store, except that a statement whose parameters hold MARK fails as PostgreSQL fails a bad date. */
function refusingMarked(store: Store): Store {
  const refuse = (params: readonly unknown[] | undefined) => {
    if (JSON.stringify(params ?? []).includes(MARK)) {
      throw Object.assign(new Error('date/time field value out of range'), { code: '22008' });
    }
  };
  const wrap = (sql: Sql): Sql => ({
    query: async (text, params) => {
      refuse(params);
      return sql.query(text, params);
    },
    exec: (script) => sql.exec(script),
  });
  return { ...store, ...wrap(store), transaction: (work) => store.transaction((tx) => work(wrap(tx))) };
}

let admins: TestAdmins;
let store: Store;
let dispose: () => Promise<void>;
beforeAll(async () => {
  admins = makeAdmins(['PE', 'CL']);
  ({ store, dispose } = await openTestStore('postgres'));
});
afterAll(async () => {
  await dispose?.();
  admins?.cleanup();
});

describe('a value the store refuses', () => {
  it('refuses that record alone, the same on a retry', async () => {
    const inbound = createInboundService({
      config: admins.get('PE').config,
      store: refusingMarked(store),
      log: createLogger('silent'),
    });
    const bad = freshRecord('CL');
    bad.operator = { ...bad.operator, name: `${MARK} S.A.` };
    const jws = await signAll(
      [freshRecord('CL'), bad, freshRecord('CL')],
      admins.get('CL').config.home.signers[0]!,
    );
    const send = async () => (await inbound.receive({ records: jws, tlsPeer: undefined })).receipt.results;
    const first = await send();
    expect(outcomes(first)).toEqual(['accepted', 'rejected:SCHEMA_INVALID', 'accepted']);
    expect(outcomes(await send())).toEqual(['duplicate', 'rejected:SCHEMA_INVALID', 'duplicate']);
    const held = await store.query('SELECT 1 FROM inbound_record WHERE record_id = $1', [bad.recordId]);
    expect(held).toEqual([]);
  });

  it('rejects that import line alone, and the import finishes', async () => {
    const refusing = refusingMarked(store);
    const publisher = createPublisher({ config: admins.get('PE').config, store: refusing });
    const importer = createRegisterImporter({ store: refusing, publisher });
    const marked = certifyBody(freshAeoId());
    marked.operator = { ...(marked.operator as object), name: `${MARK} S.A.` };
    const values = [certifyBody(freshAeoId()), marked, certifyBody(freshAeoId())];
    async function* lines() {
      for (const [i, value] of values.entries()) yield { line: i + 1, value };
    }
    const done = await importer.run({ importId: crypto.randomUUID(), format: 'ndjson', lines: lines() });
    expect(done).toMatchObject({ state: 'finished', linesRead: 3, applied: 2, rejected: 1 });
    expect(done.errors).toEqual([{ line: 2, code: 'BODY_INVALID', detail: expect.any(String) }]);
  });

  it('ends an import that fails for another reason as failed, with the reason', async () => {
    const publisher = createPublisher({ config: admins.get('PE').config, store });
    const broken = { ...publisher, decideEach: () => Promise.reject(new Error('signing key unavailable')) };
    const importer = createRegisterImporter({ store, publisher: broken });
    const importId = crypto.randomUUID();
    async function* lines() {
      yield { line: 1, value: certifyBody(freshAeoId()) };
    }
    await expect(importer.run({ importId, format: 'ndjson', lines: lines() })).rejects.toThrow(/signing key/);
    expect(await importer.get(importId)).toMatchObject({
      state: 'failed',
      failure: 'signing key unavailable',
    });
  });
});
