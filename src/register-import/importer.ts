/**
 * Bulk import of the national register: lines (JSON lines or CSV, already split and parsed) → the strict
 * decision schema → the publisher, in chunks of one transaction each. One bad line never sinks the import:
 * it is counted, and kept with its line number and reason. Progress is written after every chunk, so another
 * request can follow a large import while it runs.
 */
import { createHash } from 'node:crypto';
import { adminAction, GATEWAY_ACTOR, withAudit } from '../audit/chain.ts';
import { GatewayError } from '../errors.ts';
import type { DecisionInput } from '../publishing/decision.ts';
import type { DecisionOutcome, Publisher } from '../publishing/publish.ts';
import { isDataException } from '../store/data-error.ts';
import type { Store } from '../store/types.ts';
import { validateAgainst } from '../validation.ts';
import type { ImportLine, ImportLineCode } from './lines.ts';
import {
  beginImport,
  type ImportCounts,
  type ImportFormat,
  type ImportProgress,
  listImports,
  MAX_KEPT_ERRORS,
  readImport,
  saveProgress,
  zeroCounts,
} from './progress.ts';

/**
 * Decisions per transaction. Large enough that a million-line register is a few thousand commits, small
 * enough that a chunk holds the publishing lock (and delays decisions from the API) for well under a second.
 */
export const IMPORT_CHUNK = 500;

export interface ImportRequest {
  importId: string;
  format: ImportFormat;
  lines: AsyncIterable<ImportLine>;
  /** The API client that sent it: its start and end are chained (src/audit/chain.ts). */
  actor?: string | undefined;
}

export interface RegisterImporter {
  run(request: ImportRequest): Promise<ImportProgress>;
  get(importId: string): Promise<ImportProgress | undefined>;
  list(limit: number): Promise<ImportProgress[]>;
}

export interface ImporterDeps {
  store: Store;
  publisher: Publisher;
  clock?: () => Date;
}

export function createRegisterImporter(deps: ImporterDeps): RegisterImporter {
  const clock = deps.clock ?? (() => new Date());
  const { store, publisher } = deps;

  async function run({
    importId,
    format,
    lines,
    actor = GATEWAY_ACTOR,
  }: ImportRequest): Promise<ImportProgress> {
    await withAudit(
      store,
      (tx) => beginImport(tx, importId, format, clock()),
      () => adminAction(actor, importId, { action: 'register-import-start', format }),
    );
    const counts = zeroCounts();
    const reject = (line: number, code: ImportLineCode, detail: string) => {
      counts.linesRead += 1;
      counts.rejected += 1;
      counts.errors.push({ line, code, detail });
      if (counts.errors.length > 2 * MAX_KEPT_ERRORS) keepFirstErrors(counts);
    };
    let chunk: { line: number; input: DecisionInput }[] = [];
    let unsaved = 0;
    // The chunk being applied while the next one is read and checked: reading (the main thread) and applying
    // (signing on the thread pool, PostgreSQL) overlap. One chunk is applied at a time, in file order.
    let applying: Promise<void> = Promise.resolve();

    const apply = async (taken: { line: number; input: DecisionInput }[]) => {
      if (taken.length > 0) {
        const outcomes = await decideChunk(taken.map((c) => c.input));
        for (const [i, o] of outcomes.entries()) {
          if (!o.ok) {
            reject(taken[i]!.line, o.code, o.detail);
            continue;
          }
          counts.linesRead += 1;
          if (o.result.replayed) counts.replayed += 1;
          else counts.applied += 1;
          if (o.result.record !== null && !o.result.replayed) counts.published += 1;
        }
      }
      // Rules refused at commit time come after parse errors of later lines: keep the first ones, in file order.
      keepFirstErrors(counts);
      await saveProgress(store, importId, counts, clock());
    };

    /** Hands the chunk in hand over once the one before it is applied; throws if that one failed. */
    const flush = async () => {
      const taken = chunk;
      chunk = [];
      unsaved = 0;
      await applying;
      applying = apply(taken);
      // Seen by the next flush or the end; until then the failure must not count as unhandled.
      applying.catch(() => {});
    };
    const drain = async () => {
      await flush();
      await applying;
    };

    try {
      for await (const l of lines) {
        unsaved += 1;
        if ('code' in l) reject(l.line, l.code, l.detail);
        else {
          const value = withDecisionId(l.value, importId, l.line);
          const checked = validateAgainst('decision', value);
          if (checked.ok) chunk.push({ line: l.line, input: value as unknown as DecisionInput });
          else reject(l.line, 'BODY_INVALID', `decision ${checked.errors.join('; ')}`);
        }
        if (chunk.length >= IMPORT_CHUNK || unsaved >= IMPORT_CHUNK) await flush();
      }
      await drain();
    } catch (error) {
      // Whatever stopped it, the import ends `failed` with the reason, never `running` once its request ended.
      await fail(importId, counts, drain, error);
      throw error instanceof GatewayError
        ? new GatewayError(error.code, `import ${importId}: ${error.message}`, { cause: error })
        : error;
    }
    const { errors: _, ...totals } = counts;
    await withAudit(
      store,
      (tx) => saveProgress(tx, importId, counts, clock(), { state: 'finished' }),
      () => adminAction(actor, importId, { action: 'register-import-finish', ...totals }),
    );
    return (await readImport(store, importId))!;
  }

  /**
   * The body ended early, was too large or its CSV header was wrong: what was read is still applied (a re-run
   * replays it), then the import is marked failed. When the store itself failed, this may fail too; the
   * import then stays `running` until it is stale, and a re-run picks it up.
   */
  async function fail(
    importId: string,
    counts: ImportCounts,
    drain: () => Promise<void>,
    error: unknown,
  ): Promise<void> {
    const failure = error instanceof Error ? error.message : String(error);
    try {
      // Lines read after a chunk that failed are not applied: drain throws that chunk's failure first.
      await drain();
    } catch {
      // A chunk failed (it may be what failed): the import is still marked below.
    }
    keepFirstErrors(counts);
    try {
      await saveProgress(store, importId, counts, clock(), { state: 'failed', failure });
    } catch {
      // Already failing: the first error is the one to report.
    }
  }

  /**
   * One transaction for the chunk. Should the store refuse a value of one decision (the decision schema is
   * meant to keep every value storable), the chunk is applied again decision by decision, so that only the
   * offending line is rejected and the import goes on.
   */
  async function decideChunk(inputs: DecisionInput[]): Promise<DecisionOutcome[]> {
    try {
      return await publisher.decideEach(inputs);
    } catch (error) {
      if (!isDataException(error)) throw error;
    }
    const outcomes: DecisionOutcome[] = [];
    for (const input of inputs) {
      try {
        outcomes.push(...(await publisher.decideEach([input])));
      } catch (error) {
        if (!isDataException(error)) throw error;
        outcomes.push({ ok: false, code: 'BODY_INVALID', detail: 'a value is outside what can be stored' });
      }
    }
    return outcomes;
  }

  return {
    run,
    get: (importId) => readImport(store, importId),
    list: (limit) => listImports(store, limit),
  };
}

/** Only the first rejections, by line, are kept with their reasons. */
function keepFirstErrors(counts: ImportCounts): void {
  counts.errors.sort((a, b) => a.line - b.line);
  counts.errors.splice(MAX_KEPT_ERRORS);
}

/**
 * A line without a decisionId gets one derived from the import id and its line number (a name-based UUID,
 * RFC 9562 version 5), so that running the same import again replays each line instead of publishing twice.
 */
function withDecisionId(
  value: Record<string, unknown>,
  importId: string,
  line: number,
): Record<string, unknown> {
  if (Object.hasOwn(value, 'decisionId')) return value;
  return { decisionId: nameBasedUuid(importId, `line ${line}`), ...value };
}

export function nameBasedUuid(namespace: string, name: string): string {
  const hash = createHash('sha1')
    .update(Buffer.from(namespace.replaceAll('-', ''), 'hex'))
    .update(name, 'utf8')
    .digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
