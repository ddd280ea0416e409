/**
 * Starting the read model from its snapshot, and writing one. A snapshot is trusted for what it covers only
 * once PostgreSQL agrees: the accepted versions received before its mark are counted in the database, with a
 * sum of their record ids, and must be exactly those the snapshot holds (evidence rows are never deleted and
 * every version the model holds is one of them, so equal counts mean equal sets; the sum catches a database
 * whose rows were replaced, as a test's or a restored one); what was received at or after the mark is then
 * read from the evidence as after a gap in the change events (load.ts loadSince). Retention does not tell a
 * running model that it removed an operator's identifiers, so those of every redacted operator are read again.
 * The stored bytes are the decoded length (8 bytes, big-endian) then the compressed snapshot: decompression
 * stops at that length, so a damaged or hostile part cannot expand without bound.
 */
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { Store } from '../store/types.ts';
import { applyIdentifiers, type IdentifierRow, loadSince } from './load.ts';
import { ReadModel } from './read-model.ts';
import { decodedRoom, type ModelCounts, type ReadModelParts } from './read-model-parts.ts';
import { encodeSnapshot } from './snapshot-codec.ts';
import { SnapshotDecoder } from './snapshot-decode.ts';
import {
  heldCovers,
  MAX_SNAPSHOT_BYTES,
  readHead,
  readParts,
  type SnapshotHead,
  type WriteOutcome,
  writeSnapshot,
} from './snapshot-store.ts';

// Stored compressed: a third of the bytes to write, to keep and to read back through the database, for less
// time than reading the other two thirds would take; the work runs on the thread pool, not the event loop.
const compress = promisify(zlib.zstdCompress);
const LEVEL = { [zlib.constants.ZSTD_c_compressionLevel]: 1 };
/** Bytes the decompressor hands over at a time: each is copied into its columns, then dropped. */
const CHUNK_BYTES = 1024 * 1024;
const LENGTH_BYTES = 8;

export interface SnapshotStart {
  model: ReadModel;
  head: SnapshotHead;
  /** Versions read from PostgreSQL after the snapshot's mark. */
  caughtUp: number;
  /**
   * Milliseconds reading the bytes, decoding them (of which waiting for PostgreSQL's count, and decompressing),
   * and catching up.
   */
  timings: { read: number; decode: number; counted: number; decompress: number; catchUp: number };
}

/** The model from the held snapshot, checked and caught up; or why the evidence must be loaded instead. */
export async function startFromSnapshot(store: Store): Promise<SnapshotStart | { reason: string }> {
  const t0 = Date.now();
  const head = await readHead(store);
  if ('reason' in head) return head;
  // Asked now, answered by PostgreSQL while the parts are read and decoded here; awaited once they are.
  const counted = countBefore(store, head.markMs);
  const redacted = redactedIdentifiers(store);
  for (const p of [counted, redacted]) p.catch(() => {});
  const parts = await readParts(store, head);
  if ('reason' in parts) return parts;
  const t1 = Date.now();
  // Awaited before a column is allocated: a head's counts bound the columns (snapshot-decode.ts), and the
  // database bounds the head's counts.
  const row = await counted;
  if (!(head.versions <= row.all)) return { reason: 'snapshot holds more versions than the database' };
  let model: ReadModel;
  const tc = Date.now();
  let decompress = 0;
  try {
    const decoded = await unpack(parts, head);
    if ('reason' in decoded) return decoded;
    decompress = Date.now() - tc;
    model = ReadModel.fromParts(decoded, true);
  } catch (error) {
    return { reason: `snapshot unreadable: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (model.versionCount !== head.versions || model.operatorCount !== head.operators)
    return { reason: 'snapshot does not hold what its head says' };
  const t2 = Date.now();
  const held = coverage(model, head.markMs);
  if (row.versions !== held.versions || row.idSum !== held.idSum)
    return {
      reason:
        row.versions === held.versions
          ? 'snapshot stale: other versions before its mark in the database'
          : `snapshot stale: ${row.versions} accepted versions received before its mark in the database, ` +
            `${held.versions} in the snapshot`,
    };
  applyIdentifiers(
    model,
    (await redacted).filter((r) => model.find(r.issuer, r.aeo_id) !== undefined),
  );
  const caughtUp = await loadSince(store, model, head.markMs);
  const timings = { read: t1 - t0, decode: t2 - t1, counted: tc - t1, decompress, catchUp: Date.now() - t2 };
  return { model, head, caughtUp, timings };
}

/**
 * The accepted versions received before `ms` in PostgreSQL, as coverage() counts and sums them; and all of
 * them, which no snapshot can exceed.
 */
async function countBefore(
  store: Store,
  ms: number,
): Promise<{ versions: number; idSum: number; all: number }> {
  const [row] = await store.query<{ n: string; s: string; total: string }>(
    `SELECT count(*) FILTER (WHERE received_at < $1)::text AS n,
            (coalesce(sum(('x' || right(record_id::text, 12))::bit(48)::bigint) FILTER (WHERE received_at < $1), 0)
              % 281474976710656)::text AS s,
            count(*)::text AS total
       FROM inbound_record WHERE outcome = 'accepted'`,
    [new Date(ms).toISOString()],
  );
  return { versions: Number(row?.n ?? -1), idSum: Number(row?.s ?? -1), all: Number(row?.total ?? -1) };
}

/** Every redacted operator with its identifiers (none, once retention removed them). */
function redactedIdentifiers(store: Store): Promise<IdentifierRow[]> {
  return store.query<IdentifierRow>(
    `SELECT s.issuer, s.aeo_id, i.scheme, i.value FROM operator_state s
       LEFT JOIN operator_identifier i ON i.issuer = s.issuer AND i.aeo_id = s.aeo_id
      WHERE s.redacted_at IS NOT NULL`,
  );
}

/**
 * The parts of the stored bytes: decompressed as a stream, within their stated length, straight into the
 * model's columns, none larger than a model of `counts` can have. Each stored part is let go once the
 * decompressor has taken it.
 */
async function unpack(parts: Buffer[], counts: ModelCounts): Promise<ReadModelParts | { reason: string }> {
  const unreadable = (why: string) => ({ reason: `snapshot unreadable: ${why}` });
  const first = parts[0];
  if (first === undefined || first.length <= LENGTH_BYTES) return unreadable('no length');
  const length = Number(first.readBigUInt64BE(0));
  if (length <= 0 || length > MAX_SNAPSHOT_BYTES) return unreadable(`decoded length ${length} out of bounds`);
  parts[0] = first.subarray(LENGTH_BYTES);
  const decoder = new SnapshotDecoder(length, counts, decodedRoom);
  const decoded = await decompressInto(parts, length, (chunk) => decoder.push(chunk));
  if (decoded !== length) return unreadable(`decoded ${decoded} bytes, ${length} stored`);
  return decoder.finish();
}

/**
 * Decompresses `parts` (emptying the list), handing each piece of output to `take` as it comes, and stops with
 * an error past `length` bytes or at the first throw of `take`; the bytes decompressed.
 */
function decompressInto(parts: Buffer[], length: number, take: (chunk: Buffer) => void): Promise<number> {
  const z = zlib.createZstdDecompress({ chunkSize: CHUNK_BYTES });
  let decoded = 0;
  const done = new Promise<number>((resolve, reject) => {
    z.on('data', (chunk: Buffer) => {
      decoded += chunk.length;
      try {
        if (decoded > length) throw new Error(`decoded more than the ${length} bytes stored`);
        take(chunk);
      } catch (error) {
        z.destroy(error instanceof Error ? error : new Error(String(error)));
      }
    });
    z.once('end', () => resolve(decoded));
    z.once('error', reject);
  });
  // Written at once: the stream holds each part until it is decompressed, and nothing else does.
  for (let part = parts.shift(); part !== undefined; part = parts.shift()) z.write(part);
  z.end();
  return done;
}

/**
 * The versions received before `ms` (epoch ms): how many, and the sum modulo 2^48 of the last 48 bits of their
 * record ids, as the start's query computes them in PostgreSQL.
 */
export function coverage(model: ReadModel, ms: number): { versions: number; idSum: number } {
  let versions = 0;
  let idSum = 0;
  const bytes = model.rowBytes;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let row = 0; row < model.versionCount; row += 1) {
    if (!(model.receivedAtOf(row) < ms)) continue;
    versions += 1;
    const at = model.recordIdAt(row) + 10;
    idSum = (idSum + view.getUint16(at, false) * 2 ** 32 + view.getUint32(at + 2, false)) % 2 ** 48;
  }
  return { versions, idSum };
}

/**
 * Writes a snapshot of `model` covering every version received before `markMs` (`replace`: even over a held
 * one with as many versions); how it went and its size.
 */
export async function saveSnapshot(
  store: Store,
  model: ReadModel,
  markMs: number,
  replace = false,
): Promise<{ outcome: WriteOutcome; bytes: number }> {
  // Asked first: when the held snapshot covers this one (processes stopping together), nothing is encoded.
  if (await heldCovers(store, model.versionCount, replace)) return { outcome: 'held-covers', bytes: 0 };
  // Copied at once, synchronously: the model goes on taking changes while the copy is compressed.
  const bytes = await pack(encodeSnapshot(model.parts()));
  const head = { markMs, versions: model.versionCount, operators: model.operatorCount };
  const outcome = await writeSnapshot(store, bytes, head, replace);
  return { outcome, bytes: bytes.length };
}

/** The stored bytes of an encoded snapshot: its length, then the compressed bytes. */
async function pack(raw: Buffer): Promise<Buffer> {
  const packed = await compress(raw, { params: LEVEL });
  const bytes = Buffer.allocUnsafeSlow(LENGTH_BYTES + packed.length);
  bytes.writeBigUInt64BE(BigInt(raw.length), 0);
  bytes.set(packed, LENGTH_BYTES);
  return bytes;
}
