/**
 * docs/threats.md 33: the Wycheproof sets of tests/vectors/wycheproof through the gateway's own verifier.
 *
 * JWS vectors: each token goes through parseCompactJws (the rules common to all profiles; the vectors carry
 * no typ, x5c or kid, so the record profile would refuse every one of them, which is asserted too) and then
 * verifyJwsSignature with the group's public JWK imported by jose's importJWK under the JWK's own alg.
 *
 * Raw signature sets (ES256, Ed25519, PS256): a token only ever signs `header.payload`, so an arbitrary `msg`
 * cannot be put through verifyJwsSignature. They go through verifySignatureBytes instead, the check
 * verifyJwsSignature makes once it has the signing input, with the key as a KeyObject from its SPKI (as from a
 * certificate). A round-trip test with jose's signatures and WebCrypto's pins that the two agree.
 *
 * "acceptable" vectors: the gateway has no policy of its own beyond OpenSSL's, so either outcome would be
 * allowed and counted; the pinned files hold none, which is asserted so that a vector update gets a look.
 */

import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { importJWK, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { encodeBase64url } from '../../src/crypto/base64url.ts';
import { parseCompactJws, precheckCompactJws, RECORD_PROFILE } from '../../src/crypto/compact-jws.ts';
import { signCompactJws, verifyJwsSignature, verifySignatureBytes } from '../../src/crypto/jws-verify.ts';
import type { SigningAlgorithm } from '../../src/crypto/types.ts';
import { FAKE_KID, FAKE_X5C } from '../support/jws.ts';
import { type VectorOutcome, WYCHEPROOF_JWS_OVERRIDES } from './wycheproof-overrides.ts';

const VECTOR_DIR = fileURLToPath(new URL('../vectors/wycheproof/', import.meta.url));

type Label = 'valid' | 'invalid' | 'acceptable';
interface VectorFile<G> {
  numberOfTests: number;
  testGroups: G[];
}
interface JwsGroup {
  comment: string;
  public?: JWK;
  tests: { tcId: number; comment: string; jws: unknown; result: Label }[];
}
interface RawGroup {
  publicKeyDer: string;
  tests: { tcId: number; comment: string; msg: string; sig: string; result: Label }[];
}

function load<G>(name: string): VectorFile<G> {
  const path = `${VECTOR_DIR}${name}`;
  if (!existsSync(path)) {
    throw new Error(
      `Wycheproof vector file missing: ${path}. The vectors are part of the repository, in ` +
        'tests/vectors/wycheproof (see SOURCE.md there); this test does not skip without them.',
    );
  }
  return JSON.parse(readFileSync(path, 'utf8')) as VectorFile<G>;
}

function tally(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

/** The WebCrypto parameters of each algorithm (as jose's lib/jws_algorithms.js has them), to sign independently. */
type ImportParams = Parameters<KeyObject['toCryptoKey']>[0];
type SignParams = Parameters<typeof crypto.subtle.sign>[0];
const WEBCRYPTO: Record<SigningAlgorithm, { key: ImportParams; sign: SignParams }> = {
  ES256: { key: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' } },
  EdDSA: { key: { name: 'Ed25519' }, sign: { name: 'Ed25519' } },
  PS256: { key: { name: 'RSA-PSS', hash: 'SHA-256' }, sign: { name: 'RSA-PSS', saltLength: 32 } },
};

function verifyRaw(alg: SigningAlgorithm, key: KeyObject, signature: Uint8Array, data: Uint8Array) {
  return verifySignatureBytes(alg, key, data, signature);
}

describe('the vectors are where the suite expects them', () => {
  it(`finds ${VECTOR_DIR}`, () => {
    expect(existsSync(VECTOR_DIR), `Wycheproof vectors missing at ${VECTOR_DIR}`).toBe(true);
  });
});

describe('raw signature sets through verifySignatureBytes', () => {
  it.each([
    ['ES256', 'ecdsa_secp256r1_sha256_p1363_test.json'],
    ['EdDSA', 'ed25519_test.json'],
    ['PS256', 'rsa_pss_2048_sha256_mgf1_32_test.json'],
  ] as const)('%s: %s decided as labelled', async (alg, file) => {
    const vectors = load<RawGroup>(file);
    const counts = new Map<string, number>();
    const disagreements: string[] = [];
    for (const group of vectors.testGroups) {
      const key = createPublicKey({
        key: Buffer.from(group.publicKeyDer, 'hex'),
        format: 'der',
        type: 'spki',
      });
      for (const t of group.tests) {
        const ok = await verifyRaw(alg, key, Buffer.from(t.sig, 'hex'), Buffer.from(t.msg, 'hex'));
        tally(counts, `${t.result} → ${ok ? 'verifies' : 'fails'}`);
        if (t.result !== 'acceptable' && ok !== (t.result === 'valid')) {
          disagreements.push(`${t.tcId} (${t.comment}): labelled ${t.result}, ${ok ? 'verifies' : 'fails'}`);
        }
      }
    }
    console.log(`${file}:`, Object.fromEntries(counts));
    expect(disagreements).toEqual([]);
    expect(counts.get('acceptable → verifies') ?? 0).toBe(0);
    expect(counts.get('acceptable → fails') ?? 0).toBe(0);
    expect([...counts.values()].reduce((a, b) => a + b, 0)).toBe(vectors.numberOfTests);
  });

  it.each(['ES256', 'EdDSA', 'PS256'] as const)(
    '%s: jose and WebCrypto signatures verify, by bytes and as a token',
    async (alg) => {
      const pair =
        alg === 'ES256'
          ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
          : alg === 'EdDSA'
            ? generateKeyPairSync('ed25519')
            : generateKeyPairSync('rsa', { modulusLength: 2048 });
      const payload = new TextEncoder().encode('{"schema":"aeo-status/1"}');
      const header = { alg, typ: 'aeo-status+jws', x5c: FAKE_X5C, kid: FAKE_KID };
      // jose signs, the check on bytes verifies.
      const token = await signCompactJws(payload, header, pair.privateKey);
      const [protectedSegment = '', payloadSegment = '', signatureSegment = ''] = token.split('.');
      const signingInput = new TextEncoder().encode(`${protectedSegment}.${payloadSegment}`);
      expect(
        await verifyRaw(alg, pair.publicKey, Buffer.from(signatureSegment, 'base64url'), signingInput),
      ).toBe(true);
      // WebCrypto signs with jose's parameters, verifyJwsSignature verifies (for PSS this pins the salt length).
      const privateKey = await pair.privateKey.toCryptoKey(WEBCRYPTO[alg].key, false, ['sign']);
      const rawSignature = new Uint8Array(
        await crypto.subtle.sign(WEBCRYPTO[alg].sign, privateKey, signingInput),
      );
      const jws = { alg, protectedSegment, payloadSegment, signatureSegment: encodeBase64url(rawSignature) };
      expect(await verifyJwsSignature(jws, pair.publicKey)).toBe(true);
    },
  );
});

async function decideJws(token: unknown, group: JwsGroup): Promise<VectorOutcome> {
  const parsed = parseCompactJws(token);
  if (!parsed.ok) return parsed.code;
  if (group.public === undefined) return 'KEY_UNUSABLE';
  let key: Awaited<ReturnType<typeof importJWK>>;
  try {
    key = await importJWK(group.public, group.public.alg ?? parsed.alg);
  } catch {
    return 'KEY_UNUSABLE';
  }
  if (key instanceof Uint8Array) return 'KEY_UNUSABLE';
  return (await verifyJwsSignature(parsed, key)) ? 'accept' : 'SIGNATURE_INVALID';
}

describe('json_web_signature_test.json through parseCompactJws and verifyJwsSignature', () => {
  const overrides = new Map(WYCHEPROOF_JWS_OVERRIDES.flatMap((o) => o.tcIds.map((id) => [id, o] as const)));

  it('the override table names each vector once', () => {
    const ids = WYCHEPROOF_JWS_OVERRIDES.flatMap((o) => o.tcIds);
    expect(new Set(ids).size).toBe(ids.length);
    for (const o of WYCHEPROOF_JWS_OVERRIDES) expect(o.reason.length).toBeGreaterThan(40);
  });

  it('every vector is decided as labelled or as its override says, and none passes the record profile', async () => {
    const vectors = load<JwsGroup>('json_web_signature_test.json');
    const outcomes = new Map<string, number>();
    const verdicts = new Map<string, number>();
    const problems: string[] = [];
    const seen = new Set<number>();
    for (const group of vectors.testGroups) {
      for (const t of group.tests) {
        seen.add(t.tcId);
        const outcome = await decideJws(t.jws, group);
        tally(outcomes, outcome);
        const override = overrides.get(t.tcId);
        const where = `${t.tcId} (${group.comment}/${t.comment}, labelled ${t.result})`;
        if (override !== undefined) {
          tally(verdicts, 'as overridden');
          if (override.label !== t.result)
            problems.push(`${where}: the table records label ${override.label}`);
          if (outcome !== override.outcome)
            problems.push(`${where}: ${outcome}, the table says ${override.outcome}`);
        } else if (t.result === 'acceptable') {
          tally(verdicts, `acceptable, ${outcome}`);
        } else {
          tally(verdicts, 'as labelled');
          if ((outcome === 'accept') !== (t.result === 'valid'))
            problems.push(`${where}: ${outcome}, not in the table`);
        }
        if (precheckCompactJws(t.jws, RECORD_PROFILE).ok)
          problems.push(`${where}: passes the record profile`);
      }
    }
    for (const id of overrides.keys())
      if (!seen.has(id)) problems.push(`${id}: in the table, not in the file`);
    console.log('json_web_signature_test.json outcomes:', Object.fromEntries(outcomes));
    console.log('json_web_signature_test.json verdicts:', Object.fromEntries(verdicts));
    expect(problems).toEqual([]);
    expect(seen.size).toBe(vectors.numberOfTests);
    expect(verdicts.get('as labelled')).toBe(vectors.numberOfTests - overrides.size);
  });

  it('367 and 370 are byte-identical to the valid 357, as their override says', () => {
    const tokens = new Map(
      load<JwsGroup>('json_web_signature_test.json')
        .testGroups.flatMap((g) => g.tests)
        .map((t) => [t.tcId, t.jws]),
    );
    expect(tokens.get(367)).toBe(tokens.get(357));
    expect(tokens.get(370)).toBe(tokens.get(357));
  });
});
