/**
 * Mutations of a compact JWS for fuzzing, segment by segment: the whole text edited, the header or the payload
 * edited structurally (the signature kept, so the result must never verify), the signature's bytes flipped,
 * segments swapped, added, dropped, padded or re-encoded.
 */
import fc from 'fast-check';
import { applyEdit, applyJsonEdit, type JsonEdit, jsonEdit, type TextEdit, textEdit } from './fuzz-mutate.ts';

/** A mutation of a compact JWS, segment by segment. */
export type JwsEdit =
  | { kind: 'text'; edit: TextEdit }
  | { kind: 'header'; edit: JsonEdit }
  | { kind: 'payload'; edit: JsonEdit }
  | { kind: 'signature'; at: number; bit: number }
  | {
      kind: 'segments';
      how: 'swap' | 'extra' | 'drop' | 'empty-signature' | 'padding' | 'standard-base64' | 'whitespace';
    };

export const jwsEdit: fc.Arbitrary<JwsEdit> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('text' as const), edit: textEdit }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('header' as const), edit: jsonEdit }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('payload' as const), edit: jsonEdit }), weight: 3 },
  {
    arbitrary: fc.record({
      kind: fc.constant('signature' as const),
      at: fc.nat(),
      bit: fc.integer({ min: 0, max: 7 }),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('segments' as const),
      how: fc.constantFrom(
        'swap' as const,
        'extra' as const,
        'drop' as const,
        'empty-signature' as const,
        'padding' as const,
        'standard-base64' as const,
        'whitespace' as const,
      ),
    }),
    weight: 1,
  },
);

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64url');
const unb64 = (s: string) => Buffer.from(s, 'base64url');

/** The JWS with the edit applied; the signature is kept as it was, so the result must never verify. */
export function applyJwsEdit(jws: string, edit: JwsEdit): string {
  const [h = '', p = '', s = ''] = jws.split('.');
  switch (edit.kind) {
    case 'text':
      return applyEdit(jws, edit.edit).toString('latin1');
    case 'header':
      return `${b64(applyJsonEdit(JSON.parse(unb64(h).toString('utf8')), edit.edit))}.${p}.${s}`;
    case 'payload':
      return `${h}.${b64(applyJsonEdit(JSON.parse(unb64(p).toString('utf8')), edit.edit))}.${s}`;
    case 'signature': {
      const sig = unb64(s);
      if (sig.length > 0) sig[edit.at % sig.length] = (sig[edit.at % sig.length] ?? 0) ^ (1 << edit.bit);
      return `${h}.${p}.${b64(sig)}`;
    }
    case 'segments':
      switch (edit.how) {
        case 'swap':
          return `${p}.${h}.${s}`;
        case 'extra':
          return `${h}.${p}.${s}.${s}`;
        case 'drop':
          return `${h}.${p}`;
        case 'empty-signature':
          return `${h}.${p}.`;
        case 'padding':
          return `${h}==.${p}.${s}`;
        case 'standard-base64':
          return `${Buffer.from(unb64(h)).toString('base64')}.${p}.${s}`;
        case 'whitespace':
          return ` ${h}.${p}.${s}\n`;
      }
  }
}

/** The payload of `jws` with a structural edit, as the text to sign again with a real key. */
export function editedPayloadText(jws: string, edit: JsonEdit): string {
  const p = jws.split('.')[1] ?? '';
  return applyJsonEdit(JSON.parse(unb64(p).toString('utf8')), edit);
}
