/**
 * The lines of a register import as they come off the request body: split without ever holding more than one
 * line (the body can be a gigabyte), each line either a decision document or the reason it is not one, with
 * its line number so that a rejection can be found in the file.
 */
import type { ErrorCode } from '../errors.ts';

/** Longer than any decision (20 identifiers, a 300-character name and address) by a wide margin. */
export const MAX_LINE_BYTES = 64 * 1024;

export type ImportLineCode = 'LINE_TOO_LONG' | 'LINE_MALFORMED' | ErrorCode;

export interface LineError {
  line: number;
  code: ImportLineCode;
  detail: string;
}

export type ImportLine = { line: number; value: Record<string, unknown> } | LineError;

/** The request body as it arrives, or bytes already in hand (tests). */
export type ByteSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

export interface PhysicalLine {
  /** 1-based. */
  line: number;
  /** Without the line feed, nor a carriage return before it; empty when tooLong. */
  bytes: Buffer;
  tooLong: boolean;
}

/** Splits a byte stream at LF; a line over `maxBytes` is reported as too long and its bytes dropped. */
export async function* splitLines(
  source: ByteSource,
  maxBytes: number = MAX_LINE_BYTES,
): AsyncGenerator<PhysicalLine> {
  let parts: Buffer[] = [];
  let size = 0;
  let tooLong = false;
  let line = 1;
  const take = (): PhysicalLine => {
    let bytes = tooLong ? Buffer.alloc(0) : Buffer.concat(parts, size);
    if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, -1);
    const out = { line, bytes, tooLong };
    parts = [];
    size = 0;
    tooLong = false;
    line += 1;
    return out;
  };
  for await (const chunk of source) {
    const buf = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    while (start < buf.length) {
      const lf = buf.indexOf(0x0a, start);
      const end = lf === -1 ? buf.length : lf;
      if (!tooLong && size + (end - start) > maxBytes) {
        tooLong = true;
        parts = [];
        size = 0;
      } else if (!tooLong) {
        parts.push(buf.subarray(start, end));
        size += end - start;
      }
      if (lf === -1) break;
      yield take();
      start = lf + 1;
    }
  }
  // A last line without a line feed.
  if (size > 0 || tooLong) yield take();
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** A byte order mark starts many exported files; it says how the file is encoded, and is not data. */
export function withoutBom(l: PhysicalLine): Buffer {
  return l.line === 1 && l.bytes.subarray(0, 3).equals(BOM) ? l.bytes.subarray(3) : l.bytes;
}

export function isBlank(bytes: Uint8Array): boolean {
  return bytes.every((b) => b === 0x20 || b === 0x09);
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Strict UTF-8: an invalid sequence is refused, never replaced by U+FFFD. */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}
