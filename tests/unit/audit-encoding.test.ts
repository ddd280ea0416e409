/**
 * The canonical encoding of audit entries (docs/monitoring.md, "Audit trail"), checked against texts written
 * out by hand, so that an offline verifier built from the documentation computes the same hashes.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalInstant, canonicalJson, entryHash, GENESIS_HASH } from '../../src/audit/encoding.ts';

describe('audit entry encoding', () => {
  it('hashes JCS([seq, at, kind, actor, subject, digest, detail, prev_hash]) as lowercase hex SHA-256', () => {
    const fields = {
      seq: 1,
      at: '2026-05-01T12:00:00.123000Z',
      kind: 'admin-action',
      actor: 'national-aeo',
      subject: 'd0c5',
      digest: 'abc_-',
      detail: { version: 2, action: 'decision', recordId: null, nested: { z: true, a: [1, 'é'] } },
      prevHash: GENESIS_HASH,
    };
    const text =
      '[1,"2026-05-01T12:00:00.123000Z","admin-action","national-aeo","d0c5","abc_-",' +
      '{"action":"decision","nested":{"a":[1,"é"],"z":true},"recordId":null,"version":2},' +
      `"${'0'.repeat(64)}"]`;
    expect(
      canonicalJson([
        fields.seq,
        fields.at,
        fields.kind,
        fields.actor,
        fields.subject,
        fields.digest,
        fields.detail,
        fields.prevHash,
      ]),
    ).toBe(text);
    expect(entryHash(fields)).toBe(createHash('sha256').update(text, 'utf8').digest('hex'));
    expect(entryHash({ ...fields, detail: null })).not.toBe(entryHash(fields));
  });

  it('sorts members by UTF-16 code units and writes numbers as ECMAScript does (RFC 8785)', () => {
    // RFC 8785 section 3.2.3: "\u20ac" sorts before "\ud83d\ude00" by code units, though not by code points.
    expect(canonicalJson({ '\ud83d\ude00': 1, '\u20ac': 2, '\r': 3, '1': 4, '\u0080': 5 })).toBe(
      '{"\\r":3,"1":4,"\u0080":5,"\u20ac":2,"\ud83d\ude00":1}',
    );
    expect(canonicalJson([1e21, 0.000001, -0, 4.5, 1e-7])).toBe('[1e+21,0.000001,0,4.5,1e-7]');
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(TypeError);
  });

  it('spells an instant in UTC with six fractional digits', () => {
    expect(canonicalInstant(new Date('2026-05-01T12:00:00.123Z'))).toBe('2026-05-01T12:00:00.123000Z');
  });
});
