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
import { notRecognisedReason } from '../mra/recognition.ts';
import { mraInForce } from '../mra/scope.ts';
import type { Partner } from '../mra/types.ts';
import { BENEFITS, CompactTables, FRESHNESS, MRAS, type SharedPart, type Table } from './answer-compact.ts';
import { F, made, NO_BENEFITS, REASON, RECOGNISED, STATUS, sharedParts } from './answer-parts.ts';
import type { Answerer, LookupAnswer, NotRecognisedReason, OperatorQuery } from './answer-types.ts';
import { dayString, rolesOfMask } from './columns.ts';
import { JsonBytes, lit } from './json-bytes.ts';
import type { LookupCounts } from './lookup-counts.ts';
import type { ReadModel } from './read-model.ts';
import { ReasonTable } from './reason-table.ts';

export type {
  Answerer,
  AnswerForm,
  LookupAnswer,
  NotRecognisedReason,
  OperatorQuery,
} from './answer-types.ts';

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
/** Bytes an answer usually takes; the writer grows past it when needed. */
const ANSWER_SIZE = 1_024;
const COMPACT_ANSWER_SIZE = 512;
/** Bytes kept in front of a compact answer's items for its tables, written once the items are (a few KiB). */
const COMPACT_HEAD_ROOM = 16 * 1024;

/** `counts`: where each answer is counted for the monitoring reviews (lookup-counts.ts); absent, none is. */
export function createAnswerer(
  model: ReadModel,
  partners: readonly Partner[],
  counts?: LookupCounts,
): Answerer {
  // Per partner: the recognition rule tabulated once for its MRA (reason-table.ts), so judging a row is a
  // lookup, and whether the MRA is in force at the instant last asked about (a manifest asks about one).
  const partnerOf = new Map(
    partners.map((p) => [
      p.adminId,
      { partner: p, reasons: new ReasonTable(p.mra), inForceMs: Number.NaN, inForce: false },
    ]),
  );
  const noMra = new ReasonTable(undefined);
  const noVersion = notRecognisedReason(undefined, false, undefined);
  // The bytes of a day, a programme and a set of roles, each written once.
  const rolesText = new Map<number, Buffer>();
  const dayText = new Map<number, Buffer>();
  const programmeText = new Map<string, Buffer>();
  const dayOf = (day: number) => dayText.get(day) ?? made(dayText, day, lit(`"${dayString(day)}"`));
  const programmeOf = (programme: string) =>
    programmeText.get(programme) ?? made(programmeText, programme, lit(`,"programme":"${programme}"`));
  const rolesOf = (mask: number) =>
    rolesText.get(mask) ?? made(rolesText, mask, lit(`,"roles":${json(rolesOfMask(mask))}}`));

  const { benefitsOf, mraOf, freshnessOf } = sharedParts(model);

  /** A shared part: whole in the full form, its table's index in the compact form (answer-compact.ts). */
  function shared(out: JsonBytes, table: Table, part: SharedPart, tables: CompactTables | undefined): void {
    if (tables === undefined) out.raw(part.full);
    else tables.refer(out, table, part);
  }

  // The full form's `,"asOf":"…"}` of the instant a manifest asks about, written once for all its answers.
  let asOfMs = Number.NaN;
  let asOfText: Buffer = F.asOf;

  /** Closes the query; the full form gives the instant asked about in every answer, the compact form once. */
  function writeAsOf(out: JsonBytes, at: Date, tables: CompactTables | undefined): void {
    if (tables !== undefined) {
      out.raw(F.close);
      return;
    }
    const ms = at.getTime();
    if (ms === asOfMs) out.raw(asOfText);
    else out.raw(F.asOf).iso(ms);
  }

  function judge(slot: number | undefined, issuer: string | undefined, at: Date): Judgement {
    const known = issuer === undefined ? undefined : partnerOf.get(issuer);
    const row = slot === undefined ? -1 : model.rowAt(slot, at.getTime());
    let inForce = false;
    if (known !== undefined) {
      const ms = at.getTime();
      if (known.inForceMs !== ms) {
        known.inForce = mraInForce(known.partner.mra, at);
        known.inForceMs = ms;
      }
      inForce = known.inForce;
    }
    const partner = known?.partner;
    if (row < 0) return { row, issuer, partner, inForce, reason: noVersion };
    const reason = (known?.reasons ?? noMra).reason(
      model.statusCodeOf(row),
      model.programmeCodeOf(row),
      inForce,
      model.rolesMaskOf(row),
    );
    return { row, issuer, partner, inForce, reason };
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

  function write(
    out: JsonBytes,
    query: OperatorQuery,
    j: Judgement,
    at: Date,
    tables: CompactTables | undefined,
  ): void {
    const { row, reason, partner } = j;
    writeQuery(out, query);
    writeAsOf(out, at, tables);
    out.raw(F.recognised);
    out.raw(reason === undefined ? RECOGNISED : REASON.get(reason)!);
    if (row >= 0) {
      const slot = model.slotOfRow(row);
      // Asked by issuer and aeoId, the operator found is the one of exactly that key: its aeoId is the query's.
      const aeoId = 'aeoId' in query ? query.aeoId : model.aeoIdOf(slot);
      out.raw(F.operator).str(model.issuerOf(slot)).raw(F.aeoId).str(aeoId);
      out
        .raw(F.version)
        .int(model.versionOf(row))
        .raw(STATUS.get(model.statusOf(row))!);
      out.raw(dayOf(model.sinceDayOf(row)));
      out.raw(programmeOf(model.programmeOf(row)));
      out.raw(rolesOf(model.rolesMaskOf(row)));
    }
    if (partner !== undefined) shared(out, MRAS, mraOf(partner, j.inForce), tables);
    const benefits =
      reason === undefined && partner !== undefined
        ? benefitsOf(partner, model.rolesMaskOf(row))
        : NO_BENEFITS;
    shared(out, BENEFITS, benefits, tables);
    if (row >= 0) {
      const bytes = model.rowBytes;
      out.raw(F.evidence).uuid(bytes, model.recordIdAt(row));
      out.raw(F.digest).base64url(bytes, model.digestAt(row), 32);
      out.raw(F.receivedAt).iso(model.receivedAtOf(row)).raw(F.close);
    }
    shared(out, FRESHNESS, freshnessOf(j.issuer), tables);
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
    tables: CompactTables | undefined,
  ): void {
    // The same answer whatever order the records arrived in.
    const keyed = matches.map((j) => ({
      j,
      key: `${j.issuer}\u0000${model.aeoIdOf(model.slotOfRow(j.row))}`,
    }));
    keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    writeQuery(out, query);
    writeAsOf(out, at, tables);
    out.raw(F.recognised).raw(REASON.get('ambiguous-identifier')!);
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
      out.raw(dayOf(since));
      out.raw(F.matchRecognised).raw(j.reason === undefined ? RECOGNISED : REASON.get(j.reason)!);
      out.raw(F.close);
    });
    out.raw(F.matchesEnd);
    shared(out, BENEFITS, NO_BENEFITS, tables);
    shared(out, FRESHNESS, freshnessOf(query.country), tables);
  }

  function one(out: JsonBytes, query: OperatorQuery, at: Date, tables?: CompactTables): void {
    if ('aeoId' in query) {
      const j = judge(model.find(query.issuer, query.aeoId), query.issuer, at);
      counts?.count(j.issuer, j.reason);
      write(out, query, j, at, tables);
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
      writeAmbiguous(out, query, several, at, tables);
      return;
    }
    const j = held ?? notYet ?? judge(undefined, query.country, at);
    counts?.count(j.issuer, j.reason);
    write(out, query, j, at, tables);
  }

  /** The tables first, for a reader that goes through the answer in one pass; they are known only at its end. */
  function compactBatch(queries: readonly OperatorQuery[], at: Date): Buffer {
    const tables = new CompactTables();
    const answers = new JsonBytes(COMPACT_ANSWER_SIZE * queries.length, COMPACT_HEAD_ROOM);
    queries.forEach((q, i) => {
      if (i > 0) answers.raw(F.comma);
      one(answers, q, at, tables);
    });
    answers.raw(F.end);
    const head = new JsonBytes(4_096);
    head.raw(F.batch).iso(at.getTime()).raw(F.compact);
    tables.write(head);
    head.raw(F.answers);
    return answers.withHead(head.bytes());
  }

  const answerJson = (query: OperatorQuery, at: Date) => {
    const out = new JsonBytes(ANSWER_SIZE);
    one(out, query, at);
    return out.bytes();
  };
  return {
    answerJson,
    batchJson(queries, at, form = 'full') {
      if (form === 'compact') return compactBatch(queries, at);
      const out = new JsonBytes(ANSWER_SIZE * queries.length + 64);
      asOfMs = at.getTime();
      asOfText = new JsonBytes(64).raw(F.asOf).iso(asOfMs).bytes();
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
