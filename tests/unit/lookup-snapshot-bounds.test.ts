/**
 * A snapshot's columns are bounded by the counts of its head: a header stating columns larger than a model of
 * those operators and versions can have is refused before any column is allocated, whatever decoded length
 * the stored bytes state.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReadModel } from '../../src/lookup/read-model.ts';
import { decodedRoom, type ModelCounts, maxEntries } from '../../src/lookup/read-model-parts.ts';
import { encodeSnapshot, MAGIC, PRELUDE, SECTIONS } from '../../src/lookup/snapshot-codec.ts';
import { decodeSnapshot, SnapshotDecoder } from '../../src/lookup/snapshot-decode.ts';
import { MAX_SNAPSHOT_BYTES } from '../../src/lookup/snapshot-store.ts';
import {
  AEO_ID_PATTERN,
  IDENTIFIER_SCHEME_PATTERN,
  IDENTIFIER_VALUE_PATTERN,
  MAX_AEO_ID,
  MAX_IDENTIFIER_SCHEME,
  MAX_IDENTIFIER_VALUE,
  MAX_IDENTIFIERS,
} from '../../src/protocol/names.ts';
import { versionsArb } from '../support/read-model.ts';
import { withLengths } from '../support/snapshot-bytes.ts';

interface Pattern {
  pattern: string;
}
interface Identifiers {
  maxItems: number;
  items: { properties: { scheme: Pattern; value: Pattern } };
}

function modelOf(seed: number): ReadModel {
  const model = new ReadModel();
  for (const v of fc.sample(versionsArb, { numRuns: 1, seed })[0]!) {
    model.apply(v);
    model.setIdentifiers(v.issuer, v.aeoId, v.identifiers);
  }
  return model;
}

const countsOf = (m: ReadModel): ModelCounts => ({ operators: m.operatorCount, versions: m.versionCount });
const GIB = 1024 ** 3;

/** Pushes the prelude and header of `bytes` to a decoder that takes up to the largest stated length. */
function pushHeader(bytes: Buffer, counts: ModelCounts): void {
  const decoder = new SnapshotDecoder(MAX_SNAPSHOT_BYTES, counts, decodedRoom);
  decoder.push(bytes.subarray(0, PRELUDE + bytes.readUInt32LE(MAGIC.length)));
}

describe('snapshot columns bounded by the counts of its head', () => {
  const model = modelOf(11);
  const bytes = encodeSnapshot(model.parts());
  const counts = countsOf(model);

  it('refuses a header stating gigabytes of columns before allocating them', () => {
    const cases: [string, number][] = [
      ['rows', 3 * GIB],
      ['operators.arena', 2 * GIB],
      ['identifiers.arena', 2 * GIB],
      ['nodeEntry', GIB],
      ['moreSlots', GIB],
    ];
    for (const [name, length] of cases) {
      const hostile = withLengths(bytes, { [name]: length });
      const before = process.memoryUsage().arrayBuffers;
      expect(() => pushHeader(hostile, counts), name).toThrow(`column ${name} larger than its counts allow`);
      expect(process.memoryUsage().arrayBuffers - before, name).toBeLessThan(64 * 1024 ** 2);
    }
    // More identifier entries than the versions' records can name.
    const entries = withLengths(bytes, { 'identifiers.start': 4 * (counts.versions * MAX_IDENTIFIERS + 1) });
    expect(() => pushHeader(entries, counts)).toThrow('more entries than its counts allow');
  });

  it('refuses a snapshot holding more than its head counts, and reads one holding exactly that', () => {
    expect(model.operatorCount).toBeGreaterThan(1);
    const fewer = [
      { ...counts, operators: counts.operators - 1 },
      { ...counts, versions: counts.versions - 1 },
      // More operators than versions: every operator has one.
      { operators: counts.versions + 1, versions: counts.versions },
    ];
    for (const c of fewer) expect(() => decodeSnapshot(bytes, c)).toThrow(/than its counts allow/);
    const copy = ReadModel.fromParts(decodeSnapshot(bytes, counts), true);
    expect(countsOf(copy)).toEqual(counts);
  });

  it('bounds every column of the format', () => {
    const most = maxEntries({ operators: 1, versions: 1 }, 1);
    expect(Object.keys(most ?? {}).sort()).toEqual(SECTIONS.map(([name]) => name).sort());
  });

  it('takes its limits from those of a record', () => {
    // The limits the model is sized by are those the record schema states.
    const schema = JSON.parse(readFileSync('schemas/aeo-status-1.schema.json', 'utf8')) as {
      properties: { operator: { properties: { aeoId: Pattern; identifiers: Identifiers } } };
    };
    const operator = schema.properties.operator.properties;
    expect(operator.aeoId.pattern).toBe(AEO_ID_PATTERN);
    expect(operator.identifiers.items.properties.scheme.pattern).toBe(IDENTIFIER_SCHEME_PATTERN);
    expect(operator.identifiers.items.properties.value.pattern).toBe(IDENTIFIER_VALUE_PATTERN);
    expect(operator.identifiers.maxItems).toBe(MAX_IDENTIFIERS);
    /** The most characters a string matching `pattern` has (up to 200), tried as A followed by Bs. */
    const longest = (pattern: string) => {
      let most = 0;
      for (let n = 1; n <= 200; n += 1) if (new RegExp(pattern).test(`A${'B'.repeat(n - 1)}`)) most = n;
      return most;
    };
    expect(longest(AEO_ID_PATTERN)).toBe(MAX_AEO_ID);
    expect(longest(IDENTIFIER_SCHEME_PATTERN)).toBe(MAX_IDENTIFIER_SCHEME);
    expect(longest(IDENTIFIER_VALUE_PATTERN)).toBe(MAX_IDENTIFIER_VALUE);
  });
});
