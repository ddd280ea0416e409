/**
 * The digests insertRecords stores beside each JWS, computed from the set's shared protected header hashed
 * once: exactly recordDigest of the whole compact JWS, which receipts, snapshots and the audit chain check.
 */
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sampleRecord } from '../../src/cli/samples.ts';
import type { Signer } from '../../src/config/types.ts';
import { recordDigest } from '../../src/crypto/digest.ts';
import { jwsDigests } from '../../src/publishing/rows.ts';
import { signRecord, signRecordParts } from '../../src/publishing/sign-record.ts';

describe('jwsDigests', () => {
  it('answers recordDigest of each head + rest, for signed records and for any text', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const signer = { alg: 'ES256', key: privateKey, chain: [], x5c: ['MIIB'], kid: 'k' } as Signer;
    const parts = await Promise.all(
      Array.from({ length: 50 }, (_, i) => signRecordParts(sampleRecord('PE', i), signer)),
    );
    const head = parts[0]!.head;
    expect(parts.every((p) => p.head === head)).toBe(true);
    const rests = parts.map((p) => p.rest);
    expect(jwsDigests(head, rests)).toEqual(rests.map((rest) => recordDigest(head + rest)));
    // Any split of a text gives the digest of the whole text, multi-byte characters included.
    expect(jwsDigests('ä€', ['', 'x', '😀.y'])).toEqual(['ä€', 'ä€x', 'ä€😀.y'].map(recordDigest));
    expect(jwsDigests('', ['a.b.c'])).toEqual([recordDigest('a.b.c')]);
  });

  it('signRecord is its parts joined', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const signer = { alg: 'EdDSA', key: privateKey, chain: [], x5c: ['MIIB'], kid: 'k' } as Signer;
    // Ed25519 is deterministic: the same record gives the same JWS either way.
    const record = sampleRecord('PE', 3);
    const { head, rest } = await signRecordParts(record, signer);
    expect(await signRecord(record, signer)).toBe(head + rest);
  });
});
