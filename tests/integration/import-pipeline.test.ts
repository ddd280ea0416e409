/**
 * A register import reads and checks the next chunk while the one before it is applied (signing and
 * PostgreSQL), one chunk applied at a time in file order; after a chunk fails, nothing read after it is
 * applied, and the import ends `failed`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DecisionInput } from '../../src/publishing/decision.ts';
import { createPublisher, type DecisionOutcome, type Publisher } from '../../src/publishing/publish.ts';
import { createRegisterImporter, IMPORT_CHUNK } from '../../src/register-import/importer.ts';
import type { ImportLine } from '../../src/register-import/lines.ts';
import { readImport } from '../../src/register-import/progress.ts';
import type { Store } from '../../src/store/types.ts';
import { makeAdmins, type TestAdmins } from '../support/admins.ts';
import { openTestStore } from '../support/gateway.ts';
import { certifyBody, freshAeoId } from '../support/publishing.ts';

let admins: TestAdmins;
let store: Store;
let dispose: () => Promise<void>;
let real: Publisher;
beforeAll(async () => {
  admins = makeAdmins(['PE', 'CL']);
  ({ store, dispose } = await openTestStore('postgres'));
  real = createPublisher({ config: admins.get('PE').config, store });
});
afterAll(async () => {
  await dispose?.();
  admins?.cleanup();
});

/** `total` certify lines of operators that did not consent (nothing to sign: the test is about order). */
async function* register(
  prefix: string,
  total: number,
  onLine?: (line: number) => void,
): AsyncGenerator<ImportLine> {
  for (let line = 1; line <= total; line += 1) {
    onLine?.(line);
    yield { line, value: certifyBody(`${prefix}${line}`, { consent: false }) };
  }
}

const decisionsOf = async (prefix: string) =>
  Number(
    (
      await store.query<{ n: string }>(
        'SELECT count(*)::text AS n FROM home_decision WHERE starts_with(aeo_id, $1)',
        [prefix],
      )
    )[0]?.n,
  );

describe('a register import in chunks', () => {
  it('reads the next chunk while the one before it is applied', async () => {
    const prefix = freshAeoId('PP');
    let nextChunkRead: () => void = () => {};
    const read = new Promise<void>((resolve) => {
      nextChunkRead = resolve;
    });
    let overlapped: boolean | undefined;
    const publisher: Publisher = {
      ...real,
      async decideEach(inputs: readonly DecisionInput[]): Promise<DecisionOutcome[]> {
        if (overlapped === undefined) {
          // The first chunk is held until the reader is into the second one, or 20 s have passed.
          const timeout = new Promise<boolean>((r) => setTimeout(() => r(false), 20_000));
          overlapped = await Promise.race([read.then(() => true), timeout]);
        }
        return real.decideEach(inputs);
      },
    };
    const importer = createRegisterImporter({ store, publisher });
    const done = await importer.run({
      importId: crypto.randomUUID(),
      format: 'ndjson',
      lines: register(prefix, 2 * IMPORT_CHUNK + 10, (line) => {
        if (line === IMPORT_CHUNK + 10) nextChunkRead();
      }),
    });
    expect(overlapped).toBe(true);
    expect(done).toMatchObject({ state: 'finished', applied: 2 * IMPORT_CHUNK + 10, rejected: 0 });
    expect(await decisionsOf(prefix)).toBe(2 * IMPORT_CHUNK + 10);
  }, 120_000);

  it('applies nothing read after a chunk that failed, and ends failed', async () => {
    const prefix = freshAeoId('PF');
    let calls = 0;
    const publisher: Publisher = {
      ...real,
      decideEach(inputs) {
        calls += 1;
        if (calls === 2) return Promise.reject(new Error('the store went away'));
        return real.decideEach(inputs);
      },
    };
    const importer = createRegisterImporter({ store, publisher });
    const importId = crypto.randomUUID();
    await expect(
      importer.run({ importId, format: 'ndjson', lines: register(prefix, 4 * IMPORT_CHUNK) }),
    ).rejects.toThrow(/went away/);
    expect(calls).toBe(2);
    expect(await readImport(store, importId)).toMatchObject({
      state: 'failed',
      failure: 'the store went away',
      applied: IMPORT_CHUNK,
    });
    expect(await decisionsOf(prefix)).toBe(IMPORT_CHUNK);
  }, 120_000);
});
