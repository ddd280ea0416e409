/**
 * Strictness (docs/protocol.md, Signing profile, Receiving records): one batch of records, each broken one way,
 * and a valid one first; each must get its own `rejected` outcome with the code the order of checks gives, in
 * a receipt that proves delivery.
 */
import { createPublicKey } from 'node:crypto';
import type { AeoStatusRecord } from '../protocol/record.ts';
import { PROGRAMMES, ROLES } from '../protocol/record.ts';
import { flipSignature, forge, header, signed, strangerSigner, testRecord } from './forge.ts';
import { resultProblem, sendBatch } from './send.ts';
import { type Kit, Results, type Section } from './types.ts';

export const TYP = 'aeo-status+jws';

interface Broken {
  name: string;
  what: string;
  code: string;
  make(kit: Kit): Promise<string> | string;
}

export const real = (kit: Kit) => ({ alg: kit.signer.alg, key: kit.signer.key });
const rec = (kit: Kit, overrides: Partial<AeoStatusRecord> = {}) => testRecord(kit, overrides);

/** The broken records, each named by what is wrong with it and the code it must get. */
function brokenCases(kit: Kit): Broken[] {
  const s = kit.signer;
  const otherAlg = s.alg === 'ES256' ? 'EdDSA' : 'ES256';
  const cases: Broken[] = [
    {
      name: 'bad-signature',
      what: 'a signature with one byte changed',
      code: 'SIGNATURE_INVALID',
      make: (k) => forge({ header: header(s, TYP), payload: rec(k), signAs: real(k), after: flipSignature }),
    },
    {
      name: 'alg-none',
      what: 'alg none, no signature',
      code: 'ALG_NOT_ALLOWED',
      make: (k) =>
        forge({
          header: header(s, TYP, { alg: 'none' }),
          payload: rec(k),
          signAs: { alg: 'none', key: s.key },
        }),
    },
    {
      name: 'alg-hs256',
      what: 'HS256 keyed with the public key of x5c[0]',
      code: 'ALG_NOT_ALLOWED',
      make: (k) => {
        const mac = createPublicKey(s.key).export({ type: 'spki', format: 'der' });
        return forge({
          header: header(s, TYP, { alg: 'HS256' }),
          payload: rec(k),
          signAs: { alg: 'HS256', key: mac },
        });
      },
    },
    {
      name: 'alg-key-mismatch',
      what: `alg ${otherAlg} over a ${s.alg} key`,
      code: 'ALG_NOT_ALLOWED',
      make: (k) => forge({ header: header(s, TYP, { alg: otherAlg }), payload: rec(k), signAs: real(k) }),
    },
    {
      name: 'x5c-missing',
      what: 'no x5c in the header',
      code: 'HEADER_INVALID',
      make: (k) => forge({ header: header(s, TYP, { x5c: undefined }), payload: rec(k), signAs: real(k) }),
    },
    {
      name: 'typ-wrong',
      what: 'typ aeo-receipt+jws',
      code: 'HEADER_INVALID',
      make: (k) => forge({ header: header(s, 'aeo-receipt+jws'), payload: rec(k), signAs: real(k) }),
    },
    {
      name: 'typ-missing',
      what: 'no typ in the header',
      code: 'HEADER_INVALID',
      make: (k) => forge({ header: header(s, TYP, { typ: undefined }), payload: rec(k), signAs: real(k) }),
    },
    {
      name: 'header-jku',
      what: 'a jku member in the header',
      code: 'HEADER_INVALID',
      make: (k) =>
        forge({
          header: header(s, TYP, { jku: 'https://conformance.invalid/keys' }),
          payload: rec(k),
          signAs: real(k),
        }),
    },
    {
      name: 'kid-wrong',
      what: 'a kid that is not the thumbprint of x5c[0]',
      code: 'HEADER_INVALID',
      make: (k) =>
        forge({ header: header(s, TYP, { kid: 'A'.repeat(43) }), payload: rec(k), signAs: real(k) }),
    },
    {
      name: 'not-canonical',
      what: 'a payload segment with base64 padding',
      code: 'JWS_MALFORMED',
      make: (k) =>
        forge({
          header: header(s, TYP),
          payload: rec(k),
          signAs: real(k),
          after: ([h, p, g]) => [h, `${p}=`, g],
        }),
    },
    {
      name: 'untrusted-chain',
      what: 'signed by a self-signed certificate under no configured anchor',
      code: 'CERT_UNTRUSTED',
      make: (k) => {
        const stranger = strangerSigner();
        return forge({
          header: { alg: 'ES256', typ: TYP, x5c: stranger.x5c, kid: stranger.kid },
          payload: rec(k),
          signAs: { alg: 'ES256', key: stranger.key },
        });
      },
    },
    {
      name: 'duplicate-member',
      what: 'a payload with the member status twice',
      code: 'SCHEMA_INVALID',
      make: (k) =>
        forge({
          header: header(s, TYP),
          payload: `${JSON.stringify(rec(k)).slice(0, -1)},"status":"revoked"}`,
          signAs: real(k),
        }),
    },
    {
      name: 'version-as-text',
      what: 'a payload with "version": "1"',
      code: 'SCHEMA_INVALID',
      make: (k) => forge({ header: header(s, TYP), payload: { ...rec(k), version: '1' }, signAs: real(k) }),
    },
    {
      name: 'extra-member',
      what: 'a payload with a member the schema does not list',
      code: 'SCHEMA_INVALID',
      make: (k) => forge({ header: header(s, TYP), payload: { ...rec(k), note: 'extra' }, signAs: real(k) }),
    },
    {
      name: 'impossible-date',
      what: 'statusSince 2025-02-30',
      code: 'SCHEMA_INVALID',
      make: (k) => signed(k, rec(k, { statusSince: '2025-02-30' })),
    },
    {
      name: 'wrong-issuer',
      what: `issuer ${kit.target.adminId} in a record the kit signed`,
      code: 'ISSUER_MISMATCH',
      make: (k) => signed(k, rec(k, { issuer: k.target.adminId })),
    },
    {
      name: 'issued-in-future',
      what: 'issuedAt one hour ahead',
      code: 'ISSUED_IN_FUTURE',
      make: (k) => signed(k, rec(k, { issuedAt: new Date(Date.now() + 3_600_000).toISOString() })),
    },
  ];
  if (s.alg === 'ES256') {
    cases.push({
      name: 'es256-der',
      what: 'an ES256 signature in DER instead of raw r||s',
      code: 'SIGNATURE_INVALID',
      make: (k) => forge({ header: header(s, TYP), payload: rec(k), signAs: { ...real(k), der: true } }),
    });
  }
  const outside = PROGRAMMES.find((p) => !kit.target.mra.programmes.has(p));
  if (outside !== undefined) {
    cases.push({
      name: 'out-of-scope',
      what: `programme ${outside}, outside the MRA's scope`,
      code: 'OUT_OF_SCOPE',
      make: (k) => signed(k, rec(k, { programme: outside })),
    });
  }
  const roleOutside = ROLES.find((r) => !kit.target.mra.roles.has(r));
  if (roleOutside !== undefined) {
    cases.push({
      name: 'role-out-of-scope',
      what: `only the role ${roleOutside}, outside the MRA's scope`,
      code: 'OUT_OF_SCOPE',
      make: (k) => {
        const r = rec(k);
        return signed(k, { ...r, operator: { ...r.operator, roles: [roleOutside] } });
      },
    });
  }
  return cases;
}

export const strictnessSection: Section = {
  name: 'strictness',
  about: 'a batch of records each broken one way: each its own rejection code',
  async run(kit) {
    const out = new Results('strictness');
    const cases = brokenCases(kit);
    const valid = await signed(kit, testRecord(kit));
    const batch = [valid, ...(await Promise.all(cases.map((c) => c.make(kit))))];
    const sent = await sendBatch(kit, batch);
    const where = (i: number) => `POST /records, ${batch.length} records, index ${i}`;
    out.judge(
      'valid-first',
      `${where(0)}: a valid record of the kit`,
      'accepted',
      resultProblem(sent, batch, 0, 'accepted'),
    );
    for (const [i, c] of cases.entries()) {
      const expected = `rejected ${c.code}`;
      out.judge(
        c.name,
        `${where(i + 1)}: ${c.what}`,
        expected,
        resultProblem(sent, batch, i + 1, expected),
        expected,
      );
    }
    out.judge(
      'receipt',
      `POST /records, ${batch.length} records`,
      'a receipt that proves delivery',
      sent.ok ? sent.receiptProblem : sent.got,
      'verified under the anchors configured',
    );
    return out.list;
  },
};
