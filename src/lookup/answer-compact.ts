/**
 * The compact answer of a manifest (`POST /api/v1/operators/lookup?form=compact`, docs/lookup.md). In a 3,000-item
 * manifest most of the bytes of the full form are the same few parts again and again: the benefits of a role set
 * under one MRA, the MRA's terms and the freshness of an issuer. The compact form gives each distinct one once,
 * in a table, and each item refers to it by its index; the instant asked about is given once for all. Nothing
 * else differs: `expandCompact` turns a compact answer into exactly the full one, member for member and in the
 * same order (the tests hold every answer to that, and both forms to their schemas, answer-schema.ts).
 *
 *   { "asOf", "form": "compact", "benefits": [list, …], "mras": [mra, …], "freshness": [freshness, …],
 *     "answers": [{ "query", "recognised", …, "mra": i, "benefits": i, "evidence", "freshness": i }, …] }
 */
import type { LookupAnswer } from './answer-types.ts';
import { type JsonBytes, lit } from './json-bytes.ts';

/** The shared parts, by the table that holds them. */
export const TABLES = ['benefits', 'mras', 'freshness'] as const;
export type Table = 0 | 1 | 2;
export const BENEFITS: Table = 0;
export const MRAS: Table = 1;
export const FRESHNESS: Table = 2;

/** A part items share: its JSON text (a table's entry) and the bytes of the full form's member. */
export interface SharedPart {
  text: string;
  full: Buffer;
}

const MEMBER = [',"benefits":', ',"mra":', ',"freshness":'];
/** The freshness member ends an answer, in either form. */
const AFTER = ['', '', '}'];
/** References prepared once, by table and index: most answers refer to the first few entries. */
const PREPARED = 256;
const references: Buffer[][] = [[], [], []];
function reference(table: Table, i: number): Buffer {
  const known = references[table]![i];
  if (known !== undefined) return known;
  const bytes = lit(`${MEMBER[table]}${i}${AFTER[table]}`);
  if (i < PREPARED) references[table]![i] = bytes;
  return bytes;
}
const OPEN = TABLES.map((name, i) => lit(`${i === 0 ? '' : ','}"${name}":[`));
const COMMA = lit(',');
const CLOSE = lit(']');

/** The tables of one compact answer, filled as its items are written. */
export class CompactTables {
  /**
   * Entries by the part they hold. Parts are prepared once and kept (answer-parts.ts), so the same part is the
   * same object; one written again (a freshness figure moved) is a new entry, as its text is new.
   */
  private readonly indexes = [
    new Map<SharedPart, number>(),
    new Map<SharedPart, number>(),
    new Map<SharedPart, number>(),
  ];

  /** Writes the member of `part` that refers to its table entry (closing the answer after freshness). */
  refer(out: JsonBytes, table: Table, part: SharedPart): void {
    const index = this.indexes[table]!;
    let i = index.get(part);
    if (i === undefined) {
      i = index.size;
      index.set(part, i);
    }
    out.raw(reference(table, i));
  }

  /** `"benefits":[…],"mras":[…],"freshness":[…]`, each in the order of first reference. */
  write(out: JsonBytes): void {
    this.indexes.forEach((index, table) => {
      out.raw(OPEN[table]!);
      let first = true;
      for (const part of index.keys()) {
        if (!first) out.raw(COMMA);
        out.raw(lit(part.text));
        first = false;
      }
      out.raw(CLOSE);
    });
  }
}

/** A manifest's full answer. */
export interface BatchAnswer {
  asOf: string;
  answers: LookupAnswer[];
}

/** A manifest's compact answer, as JSON.parse reads it. */
export interface CompactBatchAnswer {
  asOf: string;
  form: 'compact';
  benefits: LookupAnswer['benefits'][];
  mras: NonNullable<LookupAnswer['mra']>[];
  freshness: LookupAnswer['freshness'][];
  answers: Record<string, unknown>[];
}

/**
 * The full answer a compact one stands for: the instant after each query, each index replaced by its table's
 * entry, every other member as it is and where it is.
 */
export function expandCompact(compact: CompactBatchAnswer): BatchAnswer {
  const entry = <T>(table: readonly T[], index: unknown, name: string): T => {
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= table.length) {
      throw new RangeError(`${name} ${String(index)} is not an entry of the table`);
    }
    return table[index]!;
  };
  const answers = compact.answers.map((item) => {
    const full: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(item)) {
      if (name === 'mra') full.mra = entry(compact.mras, value, 'mra');
      else if (name === 'benefits') full.benefits = entry(compact.benefits, value, 'benefits');
      else if (name === 'freshness') full.freshness = entry(compact.freshness, value, 'freshness');
      else full[name] = value;
      if (name === 'query') full.asOf = compact.asOf;
    }
    return full as unknown as LookupAnswer;
  });
  return { asOf: compact.asOf, answers };
}
