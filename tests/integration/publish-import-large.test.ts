/**
 * A large register import on PostgreSQL: 20,000 JSON lines from a generated stream. The stream stops halfway
 * until another request sees the import's progress, which only works if the gateway applies lines as they
 * arrive rather than reading the whole body first; meanwhile the same import is refused (409) and a single
 * decision through the API still goes through. A body that breaks off leaves a failed import whose lines up
 * to the break are applied; running it again completes it and publishes nothing twice.
 *
 * On a loaded machine (docs/threats.md 80): waits are on the gateway's own progress with generous bounds, counts are
 * of this test's operators only (their aeoId prefix), and each test waits, whatever its outcome, until its own
 * import has stopped running, so the next one starts on a quiet gateway.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeAdmins, type TestAdmins } from '../support/admins.ts';
import { expectProblem, startTestGateway, type TestGateway } from '../support/gateway.ts';
import {
  certifyBody,
  decide,
  freshAeoId,
  type ImportProgressBody,
  importProgress,
  postImport,
  withApiClients,
} from '../support/publishing.ts';

const TOTAL = 20_000;
/** Every line with this index modulo 1000 is invalid (a lowercase aeoId). */
const BAD_AT = 999;
/** Bound on any wait for the gateway's progress: CPU-bound work on a shared two-core machine. */
const PATIENCE_MS = 180_000;

let admins: TestAdmins;
let pe: TestGateway;
beforeAll(async () => {
  admins = makeAdmins(['PE', 'CL', 'AR'], { edit: (_id, raw) => withApiClients(raw) });
  pe = await startTestGateway(admins.get('PE').config, 'postgres');
});
afterAll(async () => {
  await pe?.close();
  admins?.cleanup();
});

/** Imports started by the running test; each is waited out after it, so none overlaps the next test. */
const started: string[] = [];
afterEach(async () => {
  for (const importId of started.splice(0)) {
    await until(
      () => importProgress(pe, importId).catch(() => undefined),
      (p) => p === undefined || p.state !== 'running',
    ).catch(() => undefined);
  }
});

/** Rows of the publishing tables under this test's operators (their aeoId prefix), untouched by any other. */
async function countsOf(prefix: string): Promise<Record<'operators' | 'decisions' | 'records', number>> {
  const [row] = await pe.store.query<Record<string, string>>(
    `SELECT (SELECT count(*) FROM home_operator WHERE starts_with(aeo_id, $1))::text AS operators,
            (SELECT count(*) FROM home_decision WHERE starts_with(aeo_id, $1))::text AS decisions,
            (SELECT count(*) FROM home_record WHERE starts_with(aeo_id, $1))::text AS records`,
    [prefix],
  );
  return {
    operators: Number(row?.operators),
    decisions: Number(row?.decisions),
    records: Number(row?.records),
  };
}

/** Line i of a generated register: one operator in ten consents (publishing costs more than recording). */
function lineOf(i: number, prefix: string): string {
  const aeoId = `${prefix}${String(i).padStart(6, '0')}`;
  const body = certifyBody(i % 1000 === BAD_AT ? aeoId.toLowerCase() : aeoId, { consent: i % 10 === 0 });
  return `${JSON.stringify(body)}\n`;
}

async function until<T>(
  read: () => Promise<T>,
  done: (v: T) => boolean,
  timeoutMs = PATIENCE_MS,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (done(v)) return v;
    if (Date.now() > end) throw new Error(`gave up waiting; last: ${JSON.stringify(v).slice(0, 300)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('a large import', () => {
  it('shows its progress to another request while the body is still streaming', async () => {
    const importId = crypto.randomUUID();
    const prefix = freshAeoId('PX');
    started.push(importId);
    const seen: { midway?: ImportProgressBody; conflict?: number; afterDecision?: ImportProgressBody } = {};
    async function* register(): AsyncGenerator<string> {
      for (let i = 0; i < TOTAL; i += 100) {
        if (i === TOTAL / 2) {
          // Half sent: wait until the gateway reports lines applied, then check it still serves others.
          seen.midway = await until(
            () => importProgress(pe, importId),
            (p) => p.state === 'running' && p.linesRead >= 5_000,
          );
          const again = await postImport(pe, lineOf(0, prefix), { importId });
          expectProblem(again, 409, 'CONFLICT');
          seen.conflict = again.status;
          await decide(pe, certifyBody(freshAeoId()));
          seen.afterDecision = await importProgress(pe, importId);
        }
        let chunk = '';
        for (let j = i; j < i + 100; j += 1) chunk += lineOf(j, prefix);
        yield chunk;
      }
    }
    const t0 = Date.now();
    const res = await postImport(pe, register(), { importId });
    const elapsed = Date.now() - t0;
    expect(res.status, res.text.slice(0, 500)).toBe(201);

    expect(seen.midway).toMatchObject({ state: 'running', finishedAt: null });
    expect(seen.midway!.linesRead).toBeLessThanOrEqual(TOTAL / 2);
    expect(seen.conflict).toBe(409);
    // The decision was answered while the import was still open: not queued behind it.
    expect(seen.afterDecision).toMatchObject({ state: 'running', finishedAt: null });
    expect(seen.afterDecision!.linesRead).toBeLessThanOrEqual(TOTAL / 2);

    const bad = TOTAL / 1000;
    const consenting = Array.from({ length: TOTAL }, (_, i) => i).filter(
      (i) => i % 10 === 0 && i % 1000 !== BAD_AT,
    ).length;
    const done = JSON.parse(res.text) as ImportProgressBody;
    expect(done).toMatchObject({
      state: 'finished',
      linesRead: TOTAL,
      applied: TOTAL - bad,
      rejected: bad,
      published: consenting,
    });
    expect(done.errors.map((e) => e.line)).toEqual(
      Array.from({ length: bad }, (_, k) => k * 1000 + BAD_AT + 1),
    );
    expect(done.errors.every((e) => e.code === 'BODY_INVALID' && /\/aeoId/.test(e.detail))).toBe(true);
    expect(await importProgress(pe, importId)).toEqual({ ...done, updatedAt: expect.any(String) });
    expect(await countsOf(prefix)).toEqual({
      operators: TOTAL - bad,
      decisions: TOTAL - bad,
      records: consenting,
    });
    console.info(`register import: ${TOTAL} lines in ${elapsed} ms`);
  }, 600_000);

  it('keeps what a broken-off body delivered, and completes when run again', async () => {
    const importId = crypto.randomUUID();
    const prefix = freshAeoId('PB');
    const lines = 3_000;
    started.push(importId);
    async function* brokenOff(): AsyncGenerator<string> {
      for (let i = 0; i < 2_000; i += 100) {
        let chunk = '';
        for (let j = i; j < i + 100; j += 1) chunk += lineOf(j, prefix);
        yield chunk;
      }
      // Let the gateway take in what was sent before the connection breaks.
      // The import's row appears once the gateway has started on the body: until then, progress is 404.
      await until(
        () => importProgress(pe, importId).catch(() => undefined),
        (p) => p !== undefined && p.linesRead >= 1_500,
      );
      throw new Error('the national system went away');
    }
    await expect(postImport(pe, brokenOff(), { importId })).rejects.toThrow();
    const failed = await until(
      () => importProgress(pe, importId),
      (p) => p.state !== 'running',
    );
    expect(failed).toMatchObject({ state: 'failed', failure: expect.stringMatching(/ended early/) });
    expect(failed.linesRead).toBeGreaterThanOrEqual(1_500);
    expect(failed.linesRead).toBeLessThanOrEqual(2_000);

    const before = await countsOf(prefix);
    expect(before.decisions).toBe(failed.applied);
    let full = '';
    for (let i = 0; i < lines; i += 1) full += lineOf(i, prefix);
    const res = await postImport(pe, full, { importId });
    expect(res.status).toBe(200);
    const done = JSON.parse(res.text) as ImportProgressBody;
    const applied = failed.applied;
    expect(done).toMatchObject({
      state: 'finished',
      runs: 2,
      linesRead: lines,
      replayed: applied,
      rejected: 3,
    });
    expect(done.applied).toBe(lines - 3 - applied);
    const after = await countsOf(prefix);
    // Only the lines the first run never reached were added.
    expect(after.decisions - before.decisions).toBe(done.applied);
    expect(after.operators - before.operators).toBe(done.applied);
    expect(after.operators).toBe(lines - 3);
  }, 600_000);
});
