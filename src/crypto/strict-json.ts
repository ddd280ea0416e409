/**
 * A strict JSON parser for untrusted JWS header and payload bytes. JSON.parse keeps the last of duplicate
 * members, reads 1e400 as Infinity and 2^53 + 1 as 2^53, accepts lone surrogates and, through `__proto__`,
 * lets a document reach a prototype in code that merges it later: two readers could then see different
 * documents in the same signed bytes, so such input is refused (docs/protocol.md signing profile, docs/threats.md E).
 *
 * The parser itself is strict-json-parser.ts; this module decodes the bytes, bounds the options and gives
 * the entry points.
 */
import { Failure, Parser, type StrictJsonFailure, type StrictJsonOptions } from './strict-json-parser.ts';

export type StrictJsonResult<T> =
  | { ok: true; value: T }
  | { ok: false; reason: StrictJsonFailure; detail: string };

/** Deeper than any protocol document; keeps recursion far from the stack limit whatever the caller asks. */
const DEPTH_CAP = 512;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function parseStrictJson(bytes: Uint8Array, opts: StrictJsonOptions): StrictJsonResult<unknown> {
  if (!Number.isInteger(opts.maxDepth) || opts.maxDepth < 1 || opts.maxDepth > DEPTH_CAP) {
    throw new RangeError(`maxDepth must be an integer from 1 to ${DEPTH_CAP}`);
  }
  // The decoder is told to keep a BOM, but it is refused outright: a BOM is not JSON (RFC 8259 §8.1).
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    return { ok: false, reason: 'bom', detail: 'starts with a byte order mark' };
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { ok: false, reason: 'invalid-utf8', detail: 'not valid UTF-8' };
  }
  try {
    return { ok: true, value: new Parser(text, opts).parseDocument() };
  } catch (e) {
    if (e instanceof Failure) return e.result;
    throw e;
  }
}

/**
 * Nesting of any JSON document the gateway reads over HTTP (request bodies, partners' responses): twice
 * the deepest one it expects (a decision: 4), far below what could be a cost.
 */
export const DOCUMENT_MAX_DEPTH = 8;

/**
 * The one reader of every JSON document that arrives over HTTP, request bodies and partners' answers alike:
 * a duplicate member is refused there too, never resolved to its last value (docs/threats.md 78).
 */
export function parseJsonDocument(bytes: Uint8Array): StrictJsonResult<unknown> {
  return parseStrictJson(bytes, { maxDepth: DOCUMENT_MAX_DEPTH });
}

/** parseStrictJson for documents whose top level must be an object: JWS headers and record payloads. */
export function parseStrictJsonObject(
  bytes: Uint8Array,
  opts: StrictJsonOptions,
): StrictJsonResult<Record<string, unknown>> {
  const result = parseStrictJson(bytes, opts);
  if (!result.ok) return result;
  const value = result.value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: 'not-an-object', detail: 'top-level value is not an object' };
  }
  return { ok: true, value: value as Record<string, unknown> };
}
