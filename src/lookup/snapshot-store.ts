/**
 * The read model's snapshot in PostgreSQL (migration 013): one snapshot, its head and its bytes in parts. A
 * table rather than a file, so that every process and every replica on the database starts from the one
 * written last, and so that it is backed up and restored with the rows it describes. Its SHA-256 is checked
 * before a byte is decoded; anything unexpected is a reason to load from the evidence instead, never an error.
 */
import { createHash } from 'node:crypto';
import { LOCKS } from '../store/locks.ts';
import type { Store } from '../store/types.ts';
import { SNAPSHOT_FORMAT } from './snapshot-codec.ts';

/** Bytes per part: a part crosses the wire as hex text, twice its size, within one result. */
export const PART_BYTES = 1024 * 1024;
/**
 * The largest snapshot read, stored or decompressed: a head or a part saying more is damaged or hostile (its
 * SHA-256 sits beside it in the same tables, so it proves integrity, not origin), never a reason to allocate.
 */
export const MAX_SNAPSHOT_BYTES = 4 * 1024 ** 3 - 1;
/** Parts read per query: fewer round trips, and a result of a few MiB at most. */
const PARTS_PER_QUERY = 2;
// Its own key (store/locks.ts), the same for every process, so that two shutting down at once write one snapshot.
const WRITE_LOCK = LOCKS.readModelSnapshot;

export interface SnapshotHead {
  generation: number;
  format: number;
  writtenAt: Date;
  /** Epoch ms: every accepted version received before it is in the snapshot. */
  markMs: number;
  versions: number;
  operators: number;
  byteLength: number;
  parts: number;
  sha256: string;
}

interface HeadRow {
  generation: string;
  format: number;
  written_at: Date | string;
  mark_ms: string;
  versions: string;
  operators: string;
  byte_length: string;
  parts: number;
  sha256: string;
}

export type WriteOutcome = 'written' | 'held-covers' | 'busy';

/** Whether the held snapshot is as good a start as one of `versions` versions (unless `replace`). */
function covers(held: HeadRow | undefined, versions: number, replace: boolean): boolean {
  return (
    !replace && held !== undefined && held.format === SNAPSHOT_FORMAT && Number(held.versions) >= versions
  );
}

// Its columns named: a statement is prepared once per connection (src/store/prepared.ts), and a prepared `*`
// would fail on a connection that outlived a migration adding a column.
const HEAD_QUERY = `SELECT generation, format, written_at, mark_ms, versions, operators, byte_length, parts, sha256
  FROM read_model_snapshot ORDER BY generation DESC LIMIT 1`;

/** Whether the held snapshot covers `versions`: asked before encoding one that would not be written. */
export async function heldCovers(store: Store, versions: number, replace = false): Promise<boolean> {
  const [held] = await store.query<HeadRow>(HEAD_QUERY);
  return covers(held, versions, replace);
}

/**
 * Replaces the held snapshot with `bytes`, in one transaction. Nothing is written when another process is
 * writing one, or, unless `replace`, when the one held has as many versions or more: it is as good a start
 * (the start checks and catches up any snapshot), and several processes stopping together write once.
 */
export async function writeSnapshot(
  store: Store,
  bytes: Uint8Array,
  head: Pick<SnapshotHead, 'markMs' | 'versions' | 'operators'>,
  replace = false,
): Promise<WriteOutcome> {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return store.transaction(async (tx) => {
    const [lock] = await tx.query<{ got: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS got', [
      WRITE_LOCK,
    ]);
    if (lock?.got !== true) return 'busy';
    const [held] = await tx.query<HeadRow>(HEAD_QUERY);
    if (covers(held, head.versions, replace)) return 'held-covers';
    const generation = Number(held?.generation ?? 0) + 1;
    const parts = Math.ceil(bytes.length / PART_BYTES);
    await tx.query('DELETE FROM read_model_snapshot');
    await tx.query(
      `INSERT INTO read_model_snapshot (generation, format, written_at, mark_ms, versions, operators,
         byte_length, parts, sha256) VALUES ($1, $2, now(), $3, $4, $5, $6, $7, $8)`,
      [generation, SNAPSHOT_FORMAT, head.markMs, head.versions, head.operators, bytes.length, parts, sha256],
    );
    for (let part = 0; part < parts; part += 1) {
      const from = part * PART_BYTES;
      const slice = bytes.subarray(from, Math.min(bytes.length, from + PART_BYTES));
      await tx.query('INSERT INTO read_model_snapshot_part (generation, part, bytes) VALUES ($1, $2, $3)', [
        generation,
        part,
        Buffer.from(slice.buffer, slice.byteOffset, slice.byteLength),
      ]);
    }
    return 'written';
  });
}

/** The held snapshot's head, when it is one this version reads; or why there is none to use. */
export async function readHead(store: Store): Promise<SnapshotHead | { reason: string }> {
  const [row] = await store.query<HeadRow>(HEAD_QUERY);
  if (row === undefined) return { reason: 'no snapshot' };
  const head: SnapshotHead = {
    generation: Number(row.generation),
    format: row.format,
    writtenAt: new Date(row.written_at),
    markMs: Number(row.mark_ms),
    versions: Number(row.versions),
    operators: Number(row.operators),
    byteLength: Number(row.byte_length),
    parts: row.parts,
    sha256: row.sha256,
  };
  if (head.format !== SNAPSHOT_FORMAT)
    return { reason: `snapshot of format ${head.format}, this version reads ${SNAPSHOT_FORMAT}` };
  if (
    !Number.isSafeInteger(head.byteLength) ||
    head.byteLength <= 0 ||
    head.byteLength > MAX_SNAPSHOT_BYTES ||
    head.parts !== Math.ceil(head.byteLength / PART_BYTES) ||
    ![head.versions, head.operators].every((n) => Number.isSafeInteger(n) && n >= 0)
  )
    return { reason: 'snapshot head inconsistent' };
  return head;
}

/**
 * The bytes of the snapshot of `head`, part by part as stored (not copied into one buffer), checked against its
 * length and SHA-256; or why they cannot be used. The next query is sent before the parts of the last one are
 * hashed, so that PostgreSQL reads and encodes them meanwhile.
 */
export async function readParts(store: Store, head: SnapshotHead): Promise<Buffer[] | { reason: string }> {
  const query = (from: number) =>
    store.query<{ bytes: Buffer }>(
      `SELECT bytes FROM read_model_snapshot_part WHERE generation = $1 AND part >= $2 AND part < $3
        ORDER BY part`,
      [head.generation, from, Math.min(head.parts, from + PARTS_PER_QUERY)],
    );
  const parts: Buffer[] = [];
  const hash = createHash('sha256');
  let length = 0;
  let next: Promise<{ bytes: Buffer }[]> | undefined = query(0);
  for (let from = 0; next !== undefined; from += PARTS_PER_QUERY) {
    const rows = await next;
    const to = Math.min(head.parts, from + PARTS_PER_QUERY);
    next = to < head.parts ? query(to) : undefined;
    // Not awaited when this one is refused: its failure, if any, is of no interest.
    next?.catch(() => {});
    if (rows.length !== to - from) return { reason: 'snapshot replaced while it was read' };
    for (const p of rows) {
      length += p.bytes.length;
      if (length > head.byteLength) return { reason: 'snapshot longer than its head says' };
      hash.update(p.bytes);
      parts.push(p.bytes);
    }
  }
  if (length !== head.byteLength) return { reason: 'snapshot shorter than its head says' };
  if (hash.digest('hex') !== head.sha256) return { reason: 'snapshot checksum mismatch' };
  return parts;
}
