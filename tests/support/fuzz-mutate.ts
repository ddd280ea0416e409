/**
 * Mutations of valid inputs for fuzzing (tests/fuzz/run.ts): byte flips, truncation, member duplication,
 * deep nesting, huge numbers, Unicode edge cases and wrong types, on text and on JSON documents (the
 * segments of a compact JWS: fuzz-jws.ts). Each is a fast-check arbitrary, so a failing input shrinks to a
 * small one.
 */
import fc from 'fast-check';

/** Characters that parsers get wrong: NUL, lone surrogates, BOM, bidi overrides, non-characters, astral. */
export const UNICODE_EDGES = [
  '\u0000',
  '\u0001',
  '\u001f',
  '\u007f',
  '\u0085',
  '\u00a0',
  '\u2028',
  '\u2029',
  '\u202e',
  '\u200b',
  '\ufeff',
  '\ufffd',
  '\uffff',
  '\ud800',
  '\udfff',
  '\ud83d\ude00',
  'e\u0301',
  'İ',
  'ß',
  '\\u0000',
  '\\ud800',
  '\\',
  '"',
  '%00',
  '%',
] as const;

/** Numbers at and beyond what JSON readers and the store hold. */
export const HUGE_NUMBERS = [
  '1e400',
  '-1e400',
  '1e-400',
  '9007199254740993',
  '-9007199254740993',
  '9223372036854775808',
  '18446744073709551616',
  '123456789012345678901234567890',
  '-0',
  '0.1e1',
  '1E2',
  '00',
  '01',
  '1.',
  '.1',
  '+1',
  'NaN',
  'Infinity',
] as const;

const WRONG_TYPES = [
  'null',
  'true',
  'false',
  '0',
  '-1',
  '""',
  '"x"',
  '[]',
  '{}',
  '[null]',
  '{"":0}',
] as const;

/** A text mutation: applied to `text` by position, so that it shrinks towards the start and small edits. */
export type TextEdit =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'duplicate'; at: number; length: number }
  | { kind: 'insert'; at: number; text: string };

export const textEdit: fc.Arbitrary<TextEdit> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 16 }) }),
  fc.record({
    kind: fc.constant('duplicate' as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 64 }),
  }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    text: fc.oneof(
      fc.constantFrom<string>(
        ...UNICODE_EDGES,
        ...HUGE_NUMBERS,
        ...WRONG_TYPES,
        ',',
        '.',
        '{',
        '[',
        ']',
        '}',
      ),
      fc.string({ maxLength: 4, unit: 'binary' }),
    ),
  }),
);

/** Applies an edit to the UTF-8 bytes of `text` (a flip may make it invalid UTF-8: returned as latin1 bytes). */
export function applyEdit(text: string | Buffer, edit: TextEdit): Buffer {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const at = bytes.length === 0 ? 0 : edit.at % (bytes.length + 1);
  switch (edit.kind) {
    case 'flip': {
      if (bytes.length === 0) return bytes;
      const copy = Buffer.from(bytes);
      const i = edit.at % bytes.length;
      copy[i] = (copy[i] ?? 0) ^ (1 << edit.bit);
      return copy;
    }
    case 'truncate':
      return bytes.subarray(0, at);
    case 'delete':
      return Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + edit.length)]);
    case 'duplicate':
      return Buffer.concat([bytes.subarray(0, at + edit.length), bytes.subarray(at)]);
    case 'insert':
      return Buffer.concat([bytes.subarray(0, at), Buffer.from(edit.text, 'utf8'), bytes.subarray(at)]);
  }
}

/** One to three edits of a text. */
export function mutatedBytes(text: string): fc.Arbitrary<Buffer> {
  return fc.array(textEdit, { minLength: 1, maxLength: 3 }).map((edits) => {
    let out: Buffer = Buffer.from(text, 'utf8');
    for (const e of edits) out = applyEdit(out, e);
    return out;
  });
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every path to a value inside `v`, the root first. */
function pathsOf(
  v: Json,
  at: (string | number)[] = [],
  out: (string | number)[][] = [],
): (string | number)[][] {
  out.push(at);
  if (Array.isArray(v)) for (const [i, x] of v.entries()) pathsOf(x, [...at, i], out);
  else if (v !== null && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) pathsOf(x, [...at, k], out);
  return out;
}

/** A structural mutation of a JSON document, as text (some mutations are not expressible as a value). */
export type JsonEdit =
  | { kind: 'replace'; path: number; text: string }
  | { kind: 'duplicate-member'; path: number }
  | { kind: 'remove'; path: number }
  | { kind: 'add-member'; path: number; name: string }
  | { kind: 'nest'; path: number; depth: number; object: boolean }
  | { kind: 'unicode'; path: number; text: string };

export const jsonEdit: fc.Arbitrary<JsonEdit> = fc.oneof(
  fc.record({
    kind: fc.constant('replace' as const),
    path: fc.nat(),
    text: fc.constantFrom<string>(...WRONG_TYPES, ...HUGE_NUMBERS),
  }),
  fc.record({ kind: fc.constant('duplicate-member' as const), path: fc.nat() }),
  fc.record({ kind: fc.constant('remove' as const), path: fc.nat() }),
  fc.record({
    kind: fc.constant('add-member' as const),
    path: fc.nat(),
    name: fc.constantFrom('__proto__', 'constructor', 'x', '', 'records', 'admin', '\u0000', 'recordId'),
  }),
  fc.record({
    kind: fc.constant('nest' as const),
    path: fc.nat(),
    depth: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constantFrom(100, 1_000, 20_000)),
    object: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('unicode' as const),
    path: fc.nat(),
    text: fc.oneof(
      fc.constantFrom<string>(...UNICODE_EDGES),
      fc.string({ maxLength: 6, unit: 'grapheme' }),
      fc.constantFrom('a'.repeat(70_000), 'é'.repeat(5_000)),
    ),
  }),
);

/** Serialises `v` with the edit applied at the path it names (modulo the number of paths). */
export function applyJsonEdit(value: unknown, edit: JsonEdit): string {
  const root = value as Json;
  const paths = pathsOf(root);
  const target = paths[edit.path % paths.length] ?? [];
  const write = (v: Json, at: (string | number)[]): string => {
    const here = at.length === target.length && at.every((p, i) => p === target[i]);
    if (here) return editedText(v, edit);
    if (Array.isArray(v)) return `[${v.map((x, i) => write(x, [...at, i])).join(',')}]`;
    if (v !== null && typeof v === 'object') {
      const members = Object.entries(v).map(([k, x]) => {
        const child = [...at, k];
        const removed =
          edit.kind === 'remove' && child.length === target.length && child.every((p, i) => p === target[i]);
        if (removed) return undefined;
        const text = `${JSON.stringify(k)}:${write(x, child)}`;
        const dup =
          edit.kind === 'duplicate-member' &&
          child.length === target.length &&
          child.every((p, i) => p === target[i]);
        return dup ? `${text},${JSON.stringify(k)}:${JSON.stringify(x)}` : text;
      });
      return `{${members.filter((m) => m !== undefined).join(',')}}`;
    }
    return JSON.stringify(v);
  };
  return write(root, []);
}

function editedText(v: Json, edit: JsonEdit): string {
  const plain = JSON.stringify(v);
  switch (edit.kind) {
    case 'replace':
      return edit.text;
    case 'add-member':
      return v !== null && typeof v === 'object' && !Array.isArray(v)
        ? `{${JSON.stringify(edit.name)}:{"injected":true}${plain.length > 2 ? `,${plain.slice(1)}` : '}'}`
        : plain;
    case 'nest':
      return edit.object
        ? `${'{"a":'.repeat(edit.depth)}${plain}${'}'.repeat(edit.depth)}`
        : `${'['.repeat(edit.depth)}${plain}${']'.repeat(edit.depth)}`;
    case 'unicode':
      // Raw, so lone surrogates reach the reader as the bytes a hostile client sends (U+FFFD after UTF-8).
      return typeof v === 'string' ? `"${v}${edit.text.replaceAll('"', '\\"')}"` : JSON.stringify(edit.text);
    default:
      return plain;
  }
}

/** A mutated JSON document: one or two structural edits, then sometimes a text edit. */
export function mutatedJson(value: unknown): fc.Arbitrary<string> {
  return fc
    .tuple(fc.array(jsonEdit, { minLength: 1, maxLength: 2 }), fc.option(textEdit, { freq: 4 }))
    .map(([edits, text]) => {
      let out = applyJsonEdit(value, edits[0]!);
      if (edits[1] !== undefined) {
        try {
          out = applyJsonEdit(JSON.parse(out), edits[1]);
        } catch {
          // The first edit already made it something other than JSON: keep it.
        }
      }
      return text === null ? out : applyEdit(out, text).toString('utf8');
    });
}
