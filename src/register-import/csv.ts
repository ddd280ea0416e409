/**
 * CSV (`text/csv`, RFC 4180, a header row) of the national register: one decision per record, mapped onto
 * the decision document so that it is checked by the same strict schema as the decisions API. Framing is done
 * here, by counting quotes over physical lines (a record ends where its quotes balance), so that one malformed
 * record costs its own lines only; csv-parse then reads the fields of each record.
 */
import { parse } from 'csv-parse/sync';
import { GatewayError } from '../errors.ts';
import {
  type ByteSource,
  decodeUtf8,
  type ImportLine,
  isBlank,
  type LineError,
  MAX_LINE_BYTES,
  splitLines,
  withoutBom,
} from './lines.ts';

/** The columns a header may name, in the decision's own member names; only aeoId and decision are required. */
export const CSV_COLUMNS = [
  'decisionId',
  'aeoId',
  'decision',
  'consent',
  'programme',
  'statusSince',
  'certifiedOn',
  'lastValidatedOn',
  'suspendedUntil',
  'name',
  'street',
  'city',
  'postcode',
  'country',
  'roles',
  'enterpriseSize',
  'identifiers',
] as const;
type Column = (typeof CSV_COLUMNS)[number];

const DECISION_COLUMNS = [
  'decisionId',
  'aeoId',
  'decision',
  'programme',
  'statusSince',
  'certifiedOn',
  'lastValidatedOn',
  'suspendedUntil',
] as const satisfies readonly Column[];
const OPERATOR_COLUMNS: readonly Column[] = [
  'name',
  'street',
  'city',
  'postcode',
  'country',
  'roles',
  'enterpriseSize',
  'identifiers',
];

interface CsvRecord {
  line: number;
  text: string;
}

/** Logical records: physical lines joined while a quoted field is open, each decoded as strict UTF-8. */
async function* csvRecords(source: ByteSource): AsyncGenerator<CsvRecord | LineError> {
  let open: { line: number; parts: Buffer[]; size: number; quotes: number } | undefined;
  for await (const l of splitLines(source, MAX_LINE_BYTES)) {
    const bytes = withoutBom(l);
    if (open === undefined && !l.tooLong && isBlank(bytes)) continue;
    const record = open ?? { line: l.line, parts: [], size: 0, quotes: 0 };
    if (l.tooLong || record.size + bytes.length + 1 > MAX_LINE_BYTES) {
      // Start afresh on the next line: an unclosed quote must not swallow the rest of the file.
      open = undefined;
      yield {
        line: record.line,
        code: 'LINE_TOO_LONG',
        detail: `the record is longer than ${MAX_LINE_BYTES} bytes`,
      };
      continue;
    }
    if (record.parts.length > 0) record.parts.push(Buffer.from('\n'));
    record.parts.push(bytes);
    record.size += bytes.length + 1;
    // 0x22 never occurs inside a multi-byte UTF-8 sequence, so counting bytes counts quote characters.
    record.quotes += countQuotes(bytes);
    if (record.quotes % 2 === 1) {
      open = record;
      continue;
    }
    open = undefined;
    const text = decodeUtf8(Buffer.concat(record.parts));
    yield text === undefined
      ? { line: record.line, code: 'LINE_MALFORMED', detail: 'the record is not valid UTF-8' }
      : { line: record.line, text };
  }
  if (open !== undefined)
    yield { line: open.line, code: 'LINE_MALFORMED', detail: 'a quoted field is not closed' };
}

function countQuotes(bytes: Buffer): number {
  let n = 0;
  for (let i = bytes.indexOf(0x22); i !== -1; i = bytes.indexOf(0x22, i + 1)) n += 1;
  return n;
}

function fieldsOf(text: string): string[] | string {
  try {
    const rows = parse(text, { relax_column_count: true });
    if (rows.length !== 1) return 'the record is not one CSV row';
    return rows[0]!;
  } catch (error) {
    // csv-parse counts lines within this one record; the import reports the record's own line instead.
    return error instanceof Error ? error.message.replace(/ at line \d+/, '') : 'not a CSV row';
  }
}

function checkHeader(fields: readonly string[]): Column[] {
  const known: ReadonlySet<string> = new Set(CSV_COLUMNS);
  const seen = new Set<string>();
  for (const f of fields) {
    if (!known.has(f))
      throw new GatewayError(
        'BODY_INVALID',
        `unknown column "${f}" in the header; known: ${CSV_COLUMNS.join(', ')}`,
      );
    if (seen.has(f)) throw new GatewayError('BODY_INVALID', `column "${f}" appears twice in the header`);
    seen.add(f);
  }
  for (const required of ['aeoId', 'decision']) {
    if (!seen.has(required)) throw new GatewayError('BODY_INVALID', `the header has no "${required}" column`);
  }
  return fields as Column[];
}

/** The header first (its errors refuse the whole import: every row would be misread), then one line a row. */
export async function* csvLines(source: ByteSource): AsyncGenerator<ImportLine> {
  let header: Column[] | undefined;
  for await (const r of csvRecords(source)) {
    if ('code' in r) {
      if (header === undefined) throw new GatewayError('BODY_INVALID', `header row: ${r.detail}`);
      yield r;
      continue;
    }
    const fields = fieldsOf(r.text);
    if (typeof fields === 'string') {
      if (header === undefined) throw new GatewayError('BODY_INVALID', `header row: ${fields}`);
      yield { line: r.line, code: 'LINE_MALFORMED', detail: fields };
    } else if (header === undefined) {
      header = checkHeader(fields);
    } else if (fields.length !== header.length) {
      const detail = `${fields.length} fields where the header has ${header.length}`;
      yield { line: r.line, code: 'LINE_MALFORMED', detail };
    } else {
      yield decisionOf(r.line, header, fields);
    }
  }
  if (header === undefined) throw new GatewayError('BODY_INVALID', 'the CSV has no header row');
}

/**
 * A row as a decision document. An empty cell is an absent member. Nothing is coerced beyond what CSV cannot
 * say: `consent` true/false becomes a boolean (any other text stays text, which the schema refuses), roles
 * are split at spaces or semicolons, identifiers are `SCHEME:VALUE` items split the same way.
 */
function decisionOf(line: number, header: readonly Column[], fields: readonly string[]): ImportLine {
  const cells = new Map<Column, string>();
  header.forEach((c, i) => {
    if (fields[i] !== '') cells.set(c, fields[i]!);
  });
  const value: Record<string, unknown> = {};
  for (const c of DECISION_COLUMNS) if (cells.has(c)) value[c] = cells.get(c);
  const consent = cells.get('consent');
  if (consent !== undefined)
    value.consent = consent === 'true' ? true : consent === 'false' ? false : consent;
  if (!OPERATOR_COLUMNS.some((c) => cells.has(c))) return { line, value };

  const identifiers = [];
  for (const item of splitList(cells.get('identifiers'))) {
    const colon = item.indexOf(':');
    if (colon <= 0)
      return { line, code: 'BODY_INVALID', detail: `identifiers: "${item}" is not SCHEME:VALUE` };
    identifiers.push({ scheme: item.slice(0, colon), value: item.slice(colon + 1) });
  }
  const address: Record<string, string> = {};
  for (const c of ['street', 'city', 'postcode', 'country'] as const) {
    const v = cells.get(c);
    if (v !== undefined) address[c] = v;
  }
  const operator: Record<string, unknown> = { identifiers };
  if (cells.has('name')) operator.name = cells.get('name');
  operator.address = address;
  if (cells.has('roles')) operator.roles = splitList(cells.get('roles'));
  if (cells.has('enterpriseSize')) operator.enterpriseSize = cells.get('enterpriseSize');
  value.operator = operator;
  return { line, value };
}

function splitList(cell: string | undefined): string[] {
  return (cell ?? '').split(/[\s;]+/).filter((s) => s !== '');
}
