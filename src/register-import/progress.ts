/** The progress of register imports (register_import), as the importer writes it and the API reads it. */
import { GatewayError } from '../errors.ts';
import type { Sql } from '../store/types.ts';
import type { LineError } from './lines.ts';

export type ImportFormat = 'ndjson' | 'csv';
export type ImportState = 'running' | 'finished' | 'failed';

/** Only the first rejections are kept with their reasons; the count covers all of them. */
export const MAX_KEPT_ERRORS = 100;

/**
 * An import whose progress has not moved for this long is taken to have died with its process, and may be
 * run again; a live one writes its progress at least every chunk.
 */
const STALE_MS = 10 * 60_000;

export interface ImportCounts {
  /** Lines accounted for: applied + replayed + rejected (blank lines are not counted). */
  linesRead: number;
  /** Decisions applied by this run. */
  applied: number;
  /** Decisions applied before (same decisionId): nothing changed. */
  replayed: number;
  /** Records signed for partners by this run. */
  published: number;
  rejected: number;
  errors: LineError[];
}

export interface ImportProgress extends ImportCounts {
  importId: string;
  format: ImportFormat;
  state: ImportState;
  runs: number;
  startedAt: string;
  updatedAt: string;
  finishedAt: string | null;
  failure: string | null;
}

export const zeroCounts = (): ImportCounts => ({
  linesRead: 0,
  applied: 0,
  replayed: 0,
  published: 0,
  rejected: 0,
  errors: [],
});

/** Starts an import, or a re-run of one; refused while the same import is still running. */
export async function beginImport(db: Sql, importId: string, format: ImportFormat, now: Date): Promise<void> {
  const rows = await db.query(
    `INSERT INTO register_import (import_id, format, state, started_at, updated_at)
     VALUES ($1, $2, 'running', $3, $3)
     ON CONFLICT (import_id) DO UPDATE SET format = EXCLUDED.format, state = 'running',
       runs = register_import.runs + 1, started_at = EXCLUDED.started_at, updated_at = EXCLUDED.updated_at,
       finished_at = NULL, lines_read = 0, applied = 0, replayed = 0, published = 0, rejected = 0,
       errors = '[]', failure = NULL
     WHERE register_import.state <> 'running' OR register_import.updated_at < $4
     RETURNING import_id`,
    [importId, format, now.toISOString(), new Date(now.getTime() - STALE_MS).toISOString()],
  );
  if (rows.length === 0) {
    throw new GatewayError(
      'CONFLICT',
      `import ${importId} is running; follow it at /api/v1/register/imports/${importId}`,
    );
  }
}

/** Writes the counts so far; with `end`, the import is over. */
export async function saveProgress(
  db: Sql,
  importId: string,
  counts: ImportCounts,
  now: Date,
  end?: { state: 'finished' | 'failed'; failure?: string },
): Promise<void> {
  await db.query(
    `UPDATE register_import SET lines_read = $2, applied = $3, replayed = $4, published = $5, rejected = $6,
       errors = $7::jsonb, updated_at = $8, state = COALESCE($9, state),
       finished_at = CASE WHEN $9::text IS NULL THEN NULL ELSE $8::timestamptz END, failure = $10
     WHERE import_id = $1`,
    [
      importId,
      counts.linesRead,
      counts.applied,
      counts.replayed,
      counts.published,
      counts.rejected,
      JSON.stringify(counts.errors.map((e) => ({ ...e, detail: storable(e.detail) }))),
      now.toISOString(),
      end?.state ?? null,
      end?.failure === undefined ? null : storable(end.failure),
    ],
  );
}

/**
 * Details and failures quote the input (a CSV cell, a header); PostgreSQL's text and jsonb cannot hold NUL,
 * and progress that cannot be saved would leave the import `running`.
 */
function storable(text: string): string {
  return text.replaceAll('\u0000', '\uFFFD');
}

interface Row {
  import_id: string;
  format: ImportFormat;
  state: ImportState;
  runs: number;
  started_at: Date | string;
  updated_at: Date | string;
  finished_at: Date | string | null;
  lines_read: string;
  applied: string;
  replayed: string;
  published: string;
  rejected: string;
  errors: LineError[];
  failure: string | null;
}

const COLUMNS = `import_id::text, format, state, runs, started_at, updated_at, finished_at, lines_read::text,
  applied::text, replayed::text, published::text, rejected::text, errors, failure`;

export async function readImport(db: Sql, importId: string): Promise<ImportProgress | undefined> {
  const [row] = await db.query<Row>(`SELECT ${COLUMNS} FROM register_import WHERE import_id = $1`, [
    importId,
  ]);
  return row === undefined ? undefined : progressOf(row);
}

/** The most recent imports first. */
export async function listImports(db: Sql, limit: number): Promise<ImportProgress[]> {
  const rows = await db.query<Row>(
    `SELECT ${COLUMNS} FROM register_import ORDER BY started_at DESC, import_id LIMIT $1`,
    [limit],
  );
  return rows.map(progressOf);
}

const iso = (v: Date | string) => new Date(v).toISOString();

function progressOf(row: Row): ImportProgress {
  return {
    importId: row.import_id,
    format: row.format,
    state: row.state,
    runs: row.runs,
    startedAt: iso(row.started_at),
    updatedAt: iso(row.updated_at),
    finishedAt: row.finished_at === null ? null : iso(row.finished_at),
    linesRead: Number(row.lines_read),
    applied: Number(row.applied),
    replayed: Number(row.replayed),
    published: Number(row.published),
    rejected: Number(row.rejected),
    errors: row.errors,
    failure: row.failure,
  };
}
