/** The read model's snapshot bytes: a round trip gives the same model, and damaged bytes are refused. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReadModel } from '../../src/lookup/read-model.ts';
import { decodeSnapshot, encodeSnapshot } from '../../src/lookup/snapshot-codec.ts';
import { describeModel, type GenVersion, versionsArb } from '../support/read-model.ts';

function modelOf(versions: readonly GenVersion[]): ReadModel {
  const model = new ReadModel();
  for (const v of versions) {
    model.apply(v);
    const slot = model.find(v.issuer, v.aeoId)!;
    if (model.latestVersion(slot) === v.version) model.setIdentifiers(v.issuer, v.aeoId, v.identifiers);
    model.sawPartner(v.issuer, v.receivedAt);
  }
  return model;
}

const roundTrip = (model: ReadModel) => ReadModel.fromParts(decodeSnapshot(encodeSnapshot(model.parts())));

describe('read model snapshot bytes', () => {
  it('decode(encode(model)) answers as the model, and keeps taking changes the same way', () => {
    fc.assert(
      fc.property(versionsArb, versionsArb, (first, later) => {
        const model = modelOf(first);
        const copy = roundTrip(model);
        expect(describeModel(copy)).toEqual(describeModel(model));
        // Both go on the same way: new versions, identifiers replaced, new operators and issuers.
        const more = later.map((v) => ({ ...v, version: v.version + 10 }));
        for (const m of [model, copy]) {
          for (const v of more) {
            m.apply(v);
            m.setIdentifiers(v.issuer, v.aeoId, v.identifiers);
          }
        }
        expect(describeModel(copy)).toEqual(describeModel(model));
      }),
      { numRuns: 60 },
    );
  });

  it('an empty model round-trips', () => {
    expect(describeModel(roundTrip(new ReadModel()))).toEqual(describeModel(new ReadModel()));
  });

  it('refuses bytes that are not a snapshot of this format, or whose columns or links are broken', () => {
    const model = modelOf(fc.sample(versionsArb, { numRuns: 1, seed: 7 })[0]!);
    const bytes = encodeSnapshot(model.parts());
    expect(() => decodeSnapshot(Buffer.from('not a snapshot'))).toThrow(/not a read model snapshot/);
    expect(() => decodeSnapshot(bytes.subarray(0, bytes.length - 8))).toThrow(/out of bounds|after the last/);
    const other = Buffer.from(bytes);
    other.write('{"format":9', 16, 'latin1');
    expect(() => decodeSnapshot(other)).toThrow(/format|header/);
    // A version's link to the next lower one pointed back at itself: a walk would never end.
    const parts = model.parts();
    const rows = Buffer.from(parts.rows);
    rows.writeInt32LE(0, 24);
    expect(() => ReadModel.fromParts({ ...parts, rows })).toThrow(/read model/);
    // An operator's head row out of range.
    const opHead = Int32Array.from(parts.opHead);
    opHead[0] = model.versionCount + 5;
    expect(() => ReadModel.fromParts({ ...parts, opHead })).toThrow(/read model/);
    // An identifier node list that loops.
    const nodeNext = Int32Array.from(parts.identifiers.nodeNext);
    if (nodeNext.length > 0) {
      const first = parts.identifiers.head.find((h) => h >= 0)!;
      nodeNext[first] = first;
      expect(() =>
        ReadModel.fromParts({ ...parts, identifiers: { ...parts.identifiers, nodeNext } }),
      ).toThrow(/identifier index/);
    }
  });
});
