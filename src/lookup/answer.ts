/**
 * The answer to "is this foreign operator a recognised AEO as of T, and which benefits apply": the version in
 * effect at T (read-model.ts) judged against the partner's MRA as configured, by the recognition rule
 * (src/mra/recognition.ts, in the order docs/lookup.md documents).
 *
 * Answers are written straight from the read model's columns into the bytes of their JSON text (json-bytes.ts):
 * a 3,000-item manifest is answered in a few milliseconds only if no object or string is built per answer. What
 * repeats is prepared once: the MRA and freshness of an issuer once per request, the benefits of a set of roles
 * once per partner, statuses, programmes and days once. `answer` parses those bytes back, so the object form
 * and the wire form can never disagree; the schema of both is answer-schema.ts.
 */
import { benefitsFor, notRecognisedReason } from '../mra/recognition.ts';
import { mraInForce } from '../mra/scope.ts';
import type { Partner } from '../mra/types.ts';
import type { AeoStatus } from '../protocol/record.ts';
import {
  type Answerer,
  type LookupAnswer,
  NOT_RECOGNISED_REASONS,
  type NotRecognisedReason,
  type OperatorQuery,
} from './answer-types.ts';
import { dayString, isoOfMs, rolesOfMask } from './columns.ts';
import { JsonBytes, lit } from './json-bytes.ts';
import type { LookupCounts } from './lookup-counts.ts';
import type { ReadModel } from './read-model.ts';
import { ReasonTable } from './reason-table.ts';

export type { Answerer, LookupAnswer, NotRecognisedReason, OperatorQuery } from './answer-types.ts';

/** What a query resolved to before it is written: the version row (-1: none) and why it is not recognised. */
interface Judgement {
  row: number;
  issuer: string | undefined;
  partner: Partner | undefined;
  /** Whether the partner's MRA is in force at the time asked. */
  inForce: boolean;
  reason: NotRecognisedReason | undefined;
}

const json = JSON.stringify;
const isoOrNull = (ms: number | undefined) => (ms === undefined ? 'null' : `"${isoOfMs(ms)}"`);
const F = {
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
  noBenefits: lit(',"benefits":[]'),
  comma: lit(','),
  asOf: lit('},"asOf":'),
  recognised: lit(',"recognised":'),
  matches: lit(',"matches":['),
  match: lit('{"issuer":'),
  matchRecognised: lit(',"recognised":'),
  matchesEnd: lit(']'),
  batch: lit('{"asOf":'),
  answers: lit(',"answers":['),
  end: lit(']}'),
};
const RECOGNISED = lit('true');
const REASON = new Map<NotRecognisedReason, Buffer>(
  NOT_RECOGNISED_REASONS.map((r) => [r, lit(`false,"reason":"${r}"`)]),
);
const STATUS = new Map<AeoStatus, Buffer>(
  (['certified', 'suspended', 'revoked', 'withdrawn'] as const).map((s) => [
    s,
    lit(`,"status":"${s}","statusSince":`),
  ]),
);
/** Bytes an answer usually takes; the writer grows past it when needed. */
const ANSWER_SIZE = 1_024;

/** `counts`: where each answer is counted for the monitoring reviews (lookup-counts.ts); absent, none is. */
export function createAnswerer(
  model: ReadModel,
  partners: readonly Partner[],
  counts?: LookupCounts,
): Answerer {
  const partnerOf = new Map(partners.map((p) => [p.adminId, p]));
  // The recognition rule, tabulated once per MRA (reason-table.ts); judging a row is then a lookup.
  const reasons = new Map(partners.map((p) => [p.adminId, new ReasonTable(p.mra)]));
  const noMra = new ReasonTable(undefined);
  const noVersion = notRecognisedReason(undefined, false, undefined);
  const benefitsText = new Map<string, Buffer>();
  const rolesText = new Map<number, Buffer>();
  const dayText = new Map<number, Buffer>();
  const programmeText = new Map<string, Buffer>();

  const benefitsOf = (partner: Partner, mask: number) =>
    cached(benefitsText, `${partner.adminId}:${mask}`, () => {
      return lit(`,"benefits":${json(benefitsFor(partner.mra, rolesOfMask(mask)))}`);
    });

  const mraText = new Map<string, Buffer>();
  /** The MRA member of a partner's answers, in force at the time asked or not. */
  const mraOf = (partner: Partner, inForce: boolean) =>
    cached(mraText, `${partner.adminId}:${inForce}`, () => {
      const { mra } = partner;
      return lit(`,"mra":${json({ id: mra.id, partner: partner.adminId, status: mra.status, inForce })}`);
    });
  const freshText = new Map<
    string | undefined,
    { received: number | undefined; changed: number | undefined; bytes: Buffer }
  >();
  /** The freshness member that ends every answer about an issuer; written again only when a figure moved. */
  const freshnessOf = (issuer: string | undefined) => {
    const received = issuer === undefined ? undefined : model.lastReceivedFrom(issuer);
    const changed = model.lastChangeAt;
    const known = freshText.get(issuer);
    if (known !== undefined && known.received === received && known.changed === changed) return known.bytes;
    const bytes = lit(
      `,"freshness":{"partnerLastReceivedAt":${isoOrNull(received)},"readModelLastChangeAt":${isoOrNull(changed)}}}`,
    );
    // Keys are issuers of validated queries (two capital letters): a few hundred at most.
    freshText.set(issuer, { received, changed, bytes });
    return bytes;
  };

  function judge(slot: number | undefined, issuer: string | undefined, at: Date): Judgement {
    const partner = issuer === undefined ? undefined : partnerOf.get(issuer);
    const row = slot === undefined ? -1 : model.rowAt(slot, at.getTime());
    const inForce = partner !== undefined && mraInForce(partner.mra, at);
    const judged = { row, issuer, partner, inForce };
    if (row < 0) return { ...judged, reason: noVersion };
    const table = (partner === undefined ? undefined : reasons.get(partner.adminId)) ?? noMra;
    const reason = table.reason(
      model.statusCodeOf(row),
      model.programmeCodeOf(row),
      inForce,
      model.rolesMaskOf(row),
    );
    return { ...judged, reason };
  }

  function writeQuery(out: JsonBytes, query: OperatorQuery): void {
    out.raw(F.open);
    if ('aeoId' in query) {
      out.raw(F.issuer).str(query.issuer).raw(F.aeoId).str(query.aeoId);
      return;
    }
    out.raw(F.scheme).str(query.scheme).raw(F.value).str(query.value);
    if (query.country !== undefined) out.raw(F.country).str(query.country);
  }

  function write(out: JsonBytes, query: OperatorQuery, j: Judgement, at: Date): void {
    const { row, reason, partner } = j;
    writeQuery(out, query);
    out.raw(F.asOf).iso(at.getTime()).raw(F.recognised);
    out.raw(reason === undefined ? RECOGNISED : REASON.get(reason)!);
    if (row >= 0) {
      const slot = model.slotOfRow(row);
      const since = model.sinceDayOf(row);
      const programme = model.programmeOf(row);
      const mask = model.rolesMaskOf(row);
      out.raw(F.operator).str(model.issuerOf(slot)).raw(F.aeoId).str(model.aeoIdOf(slot));
      out
        .raw(F.version)
        .int(model.versionOf(row))
        .raw(STATUS.get(model.statusOf(row))!);
      out.raw(cached(dayText, since, () => lit(`"${dayString(since)}"`)));
      out.raw(cached(programmeText, programme, () => lit(`,"programme":"${programme}"`)));
      out.raw(cached(rolesText, mask, () => lit(`,"roles":${json(rolesOfMask(mask))}}`)));
    }
    if (partner !== undefined) out.raw(mraOf(partner, j.inForce));
    out.raw(
      reason === undefined && partner !== undefined
        ? benefitsOf(partner, model.rolesMaskOf(row))
        : F.noBenefits,
    );
    if (row >= 0) {
      const bytes = model.rowBytes;
      out.raw(F.evidence).uuid(bytes, model.recordIdAt(row));
      out.raw(F.digest).base64url(bytes, model.digestAt(row), 32);
      out.raw(F.receivedAt).iso(model.receivedAtOf(row)).raw(F.close);
    }
    out.raw(freshnessOf(j.issuer));
  }

  /**
   * An identifier held by several operators (of two issuers when no country is given, or of one issuer)
   * answers for none of them: each match is listed with its own status and the answer is not recognised, so
   * that no issuer's record can stand in for another's suspension. Benefits and evidence belong to one
   * operator under one MRA; the border system asks again by issuer and aeoId.
   */
  function writeAmbiguous(
    out: JsonBytes,
    query: Extract<OperatorQuery, { scheme: string }>,
    matches: Judgement[],
    at: Date,
  ): void {
    // The same answer whatever order the records arrived in.
    const keyed = matches.map((j) => ({
      j,
      key: `${j.issuer}\u0000${model.aeoIdOf(model.slotOfRow(j.row))}`,
    }));
    keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    writeQuery(out, query);
    out.raw(F.asOf).iso(at.getTime()).raw(F.recognised).raw(REASON.get('ambiguous-identifier')!);
    out.raw(F.matches);
    keyed.forEach(({ j }, i) => {
      const slot = model.slotOfRow(j.row);
      const since = model.sinceDayOf(j.row);
      if (i > 0) out.raw(F.comma);
      out.raw(F.match).str(model.issuerOf(slot)).raw(F.aeoId).str(model.aeoIdOf(slot));
      out
        .raw(F.version)
        .int(model.versionOf(j.row))
        .raw(STATUS.get(model.statusOf(j.row))!);
      out.raw(cached(dayText, since, () => lit(`"${dayString(since)}"`)));
      out.raw(F.matchRecognised).raw(j.reason === undefined ? RECOGNISED : REASON.get(j.reason)!);
      out.raw(F.close);
    });
    out.raw(F.matchesEnd).raw(F.noBenefits).raw(freshnessOf(query.country));
  }

  function one(out: JsonBytes, query: OperatorQuery, at: Date): void {
    if ('aeoId' in query) {
      const j = judge(model.find(query.issuer, query.aeoId), query.issuer, at);
      counts?.count(j.issuer, j.reason);
      write(out, query, j, at);
      return;
    }
    const slots = model.findByIdentifier(query.scheme, query.value, query.country);
    // Only operators with a version in effect at T count: one received later was not there to answer then.
    let held: Judgement | undefined;
    let notYet: Judgement | undefined;
    let several: Judgement[] | undefined;
    for (const slot of slots) {
      const j = judge(slot, model.issuerOf(slot), at);
      if (j.row < 0) notYet ??= j;
      else if (held === undefined) held = j;
      else {
        several ??= [held];
        several.push(j);
      }
    }
    if (several !== undefined) {
      // Counted under the issuer asked for, or the one issuer of all matches; across issuers, under none.
      const issuer =
        query.country ?? (several.every((j) => j.issuer === held?.issuer) ? held?.issuer : undefined);
      counts?.count(issuer, 'ambiguous-identifier');
      writeAmbiguous(out, query, several, at);
      return;
    }
    const j = held ?? notYet ?? judge(undefined, query.country, at);
    counts?.count(j.issuer, j.reason);
    write(out, query, j, at);
  }

  const answerJson = (query: OperatorQuery, at: Date) => {
    const out = new JsonBytes(ANSWER_SIZE);
    one(out, query, at);
    return out.bytes();
  };
  return {
    answerJson,
    batchJson(queries, at) {
      const out = new JsonBytes(ANSWER_SIZE * queries.length + 64);
      out.raw(F.batch).iso(at.getTime()).raw(F.answers);
      queries.forEach((q, i) => {
        if (i > 0) out.raw(F.comma);
        one(out, q, at);
      });
      return out.raw(F.end).bytes();
    },
    answer: (query, at) => JSON.parse(answerJson(query, at).toString('utf8')) as LookupAnswer,
  };
}

function cached<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}
