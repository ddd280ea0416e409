/**
 * The bytes lookup answers are written from (answer.ts): the literal fragments of every answer, and the parts
 * many answers share, prepared once and written again only when they change: the benefits of a set of roles
 * under a partner's MRA, the MRA's terms as in force or not, and the freshness of an issuer. Each shared part is
 * held as its JSON text (an entry of a compact answer's table, answer-compact.ts) and as the bytes of the full
 * form's member.
 */
import { benefitsFor } from '../mra/recognition.ts';
import type { Partner } from '../mra/types.ts';
import type { AeoStatus } from '../protocol/record.ts';
import type { SharedPart } from './answer-compact.ts';
import { NOT_RECOGNISED_REASONS, type NotRecognisedReason } from './answer-types.ts';
import { isoOfMs, rolesOfMask } from './columns.ts';
import { lit } from './json-bytes.ts';
import type { ReadModel } from './read-model.ts';

const json = JSON.stringify;
const isoOrNull = (ms: number | undefined) => (ms === undefined ? 'null' : `"${isoOfMs(ms)}"`);

/** The literal fragments of answers (answer.ts), as bytes. */
export const F = {
  open: lit('{"query":{'),
  issuer: lit('"issuer":'),
  aeoId: lit(',"aeoId":'),
  scheme: lit('"scheme":'),
  value: lit(',"value":'),
  country: lit(',"country":'),
  close: lit('}'),
  operator: lit(',"operator":{"issuer":'),
  version: lit(',"version":'),
  evidence: lit(',"evidence":{"recordId":'),
  digest: lit(',"digest":'),
  receivedAt: lit(',"receivedAt":'),
  comma: lit(','),
  asOf: lit('},"asOf":'),
  recognised: lit(',"recognised":'),
  matches: lit(',"matches":['),
  match: lit('{"issuer":'),
  matchRecognised: lit(',"recognised":'),
  matchesEnd: lit(']'),
  batch: lit('{"asOf":'),
  compact: lit(',"form":"compact",'),
  answers: lit(',"answers":['),
  end: lit(']}'),
};
export const RECOGNISED = lit('true');
export const REASON = new Map<NotRecognisedReason, Buffer>(
  NOT_RECOGNISED_REASONS.map((r) => [r, lit(`false,"reason":"${r}"`)]),
);
export const STATUS = new Map<AeoStatus, Buffer>(
  (['certified', 'suspended', 'revoked', 'withdrawn'] as const).map((s) => [
    s,
    lit(`,"status":"${s}","statusSince":`),
  ]),
);
/** The benefits of an answer that grants none. */
export const NO_BENEFITS: SharedPart = { text: '[]', full: lit(',"benefits":[]') };

export interface SharedParts {
  /** The benefits of a recognised operator with the roles of `mask`, under the partner's MRA. */
  benefitsOf(partner: Partner, mask: number): SharedPart;
  /** The MRA member of a partner's answers, in force at the time asked or not. */
  mraOf(partner: Partner, inForce: boolean): SharedPart;
  /** The freshness member that ends every answer about an issuer; its full form closes the answer too. */
  freshnessOf(issuer: string | undefined): SharedPart;
}

export function sharedParts(model: ReadModel): SharedParts {
  // By partner, then by roles mask or by in force: no key is built per answer.
  const benefitsText = new Map<Partner, SharedPart[]>();
  const mraText = new Map<Partner, SharedPart[]>();
  const freshText = new Map<
    string | undefined,
    { received: number | undefined; changed: number | undefined; part: SharedPart }
  >();
  return {
    benefitsOf: (partner, mask) => {
      const byMask = cached(benefitsText, partner, () => []);
      let part = byMask[mask];
      if (part === undefined) {
        const text = json(benefitsFor(partner.mra, rolesOfMask(mask)));
        part = { text, full: lit(`,"benefits":${text}`) };
        byMask[mask] = part;
      }
      return part;
    },
    mraOf: (partner, inForce) => {
      const both = cached(mraText, partner, () => []);
      const at = inForce ? 1 : 0;
      let part = both[at];
      if (part === undefined) {
        const { mra } = partner;
        const text = json({ id: mra.id, partner: partner.adminId, status: mra.status, inForce });
        part = { text, full: lit(`,"mra":${text}`) };
        both[at] = part;
      }
      return part;
    },
    // Written again only when a figure moved.
    freshnessOf: (issuer) => {
      const received = issuer === undefined ? undefined : model.lastReceivedFrom(issuer);
      const changed = model.lastChangeAt;
      const known = freshText.get(issuer);
      if (known !== undefined && known.received === received && known.changed === changed) return known.part;
      const text = `{"partnerLastReceivedAt":${isoOrNull(received)},"readModelLastChangeAt":${isoOrNull(changed)}}`;
      const part = { text, full: lit(`,"freshness":${text}}`) };
      // Keys are issuers of validated queries (two capital letters): a few hundred at most.
      freshText.set(issuer, { received, changed, part });
      return part;
    },
  };
}

export function cached<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}

/** Keeps `value` under `key` and gives it back: `map.get(key) ?? made(map, key, …)` builds it only when missing. */
export function made<K, V>(map: Map<K, V>, key: K, value: V): V {
  map.set(key, value);
  return value;
}
