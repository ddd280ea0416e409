/** The read model's snapshot bytes: a round trip gives the same model, and damaged bytes are refused. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReadModel } from '../../src/lookup/read-model.ts';
import { decodedRoom } from '../../src/lookup/read-model-parts.ts';
import { encodeSnapshot } from '../../src/lookup/snapshot-codec.ts';
import { decodeSnapshot, SnapshotDecoder } from '../../src/lookup/snapshot-decode.ts';
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

const countsOf = (model: ReadModel) => ({ operators: model.operatorCount, versions: model.versionCount });
const roundTrip = (model: ReadModel) =>
  ReadModel.fromParts(decodeSnapshot(encodeSnapshot(model.parts()), countsOf(model)));

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

  it('decodes bytes pushed in pieces of any size into columns with room, which the model keeps and grows', () => {
    fc.assert(
      fc.property(versionsArb, versionsArb, fc.integer({ min: 1, max: 5000 }), (first, later, size) => {
        const model = modelOf(first);
        const bytes = encodeSnapshot(model.parts());
        const decoder = new SnapshotDecoder(bytes.length, countsOf(model), decodedRoom);
        for (let at = 0; at < bytes.length; at += size) decoder.push(bytes.subarray(at, at + size));
        const parts = decoder.finish();
        expect(parts.rows.buffer.byteLength).toBeGreaterThan(parts.rows.byteLength);
        const copy = ReadModel.fromParts(parts, true);
        // Kept, not copied: the model's rows and its indexes' columns are the decoded buffers.
        expect(copy.rowBytes.buffer).toBe(parts.rows.buffer);
        const own = copy.parts();
        for (const [kept, decoded] of [
          [own.opHead, parts.opHead],
          [own.operators.start, parts.operators.start],
          [own.operators.arena, parts.operators.arena],
          [own.identifiers.keys.tags, parts.identifiers.keys.tags],
          [own.identifiers.keys.arena, parts.identifiers.keys.arena],
          [own.identifiers.firstSlot, parts.identifiers.firstSlot],
          [own.identifiers.nodeEntry, parts.identifiers.nodeEntry],
          [own.identifiers.nodeNext, parts.identifiers.nodeNext],
        ] as const)
          expect(kept.buffer).toBe(decoded.buffer);
        expect(describeModel(copy)).toEqual(describeModel(model));
        for (const m of [model, copy]) {
          for (const v of later.map((v) => ({ ...v, version: v.version + 10 }))) {
            m.apply(v);
            m.setIdentifiers(v.issuer, v.aeoId, v.identifiers);
          }
        }
        expect(describeModel(copy)).toEqual(describeModel(model));
      }),
      { numRuns: 40 },
    );
  });

  it('refuses a stream that ends early or runs past its last column', () => {
    const model = modelOf(fc.sample(versionsArb, { numRuns: 1, seed: 3 })[0]!);
    const bytes = encodeSnapshot(model.parts());
    const short = new SnapshotDecoder(bytes.length, countsOf(model));
    short.push(bytes.subarray(0, bytes.length - 1));
    expect(() => short.finish()).toThrow(/out of bounds/);
    const long = new SnapshotDecoder(bytes.length + 8, countsOf(model));
    long.push(bytes);
    expect(() => long.push(new Uint8Array(8))).toThrow(/bytes after the last column/);
    // A header stating columns longer than the stated length is refused before anything is allocated.
    expect(() => new SnapshotDecoder(bytes.length - 64, countsOf(model)).push(bytes)).toThrow(
      /out of bounds/,
    );
  });

  it('an empty model round-trips', () => {
    expect(describeModel(roundTrip(new ReadModel()))).toEqual(describeModel(new ReadModel()));
  });

  it('refuses bytes that are not a snapshot of this format, or whose columns or links are broken', () => {
    const model = modelOf(fc.sample(versionsArb, { numRuns: 1, seed: 7 })[0]!);
    const bytes = encodeSnapshot(model.parts());
    const counts = countsOf(model);
    expect(() => decodeSnapshot(Buffer.from('not a snapshot'), counts)).toThrow(/not a read model snapshot/);
    expect(() => decodeSnapshot(bytes.subarray(0, bytes.length - 8), counts)).toThrow(
      /out of bounds|after the last/,
    );
    const other = Buffer.from(bytes);
    other.write('{"format":9', 16, 'latin1');
    expect(() => decodeSnapshot(other, counts)).toThrow(/format|header/);
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
