/** docs/threats.md C (header parameters) and the header side of D22 and 29, through precheckCompactJws. */
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { CompactSign, exportJWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { type JwsProfile, precheckCompactJws, RECORD_PROFILE } from '../../src/crypto/compact-jws.ts';
import {
  b64url,
  codeOf,
  compactJws,
  FAKE_KID,
  FAKE_LEAF_DER,
  FAKE_X5C,
  nonCanonical,
  PAYLOAD_SEGMENT,
  recordHeader,
} from '../support/jws.ts';

describe('docs/threats.md C: header parameters', () => {
  it.each(['none', 'None', 'NONE', 'nOnE'])(
    '13: alg "%s" with an empty signature → ALG_NOT_ALLOWED',
    (alg) => {
      expect(codeOf(compactJws(recordHeader({ alg }), PAYLOAD_SEGMENT, ''))).toBe('ALG_NOT_ALLOWED');
      expect(codeOf(compactJws({ alg }, PAYLOAD_SEGMENT, ''))).toBe('ALG_NOT_ALLOWED');
      expect(codeOf(compactJws(recordHeader({ alg })))).toBe('ALG_NOT_ALLOWED');
    },
  );

  it('13: an allowed alg with an empty signature is malformed, not unsigned', () => {
    expect(codeOf(compactJws(recordHeader(), PAYLOAD_SEGMENT, ''))).toBe('JWS_MALFORMED');
  });

  it("14: HS256 with a MAC keyed by the certificate's public key bytes → ALG_NOT_ALLOWED", () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const macKey = publicKey.export({ format: 'der', type: 'spki' });
    const signingInput = `${b64url(JSON.stringify(recordHeader({ alg: 'HS256' })))}.${PAYLOAD_SEGMENT}`;
    const mac = createHmac('sha256', macKey).update(signingInput).digest('base64url');
    expect(codeOf(`${signingInput}.${mac}`)).toBe('ALG_NOT_ALLOWED');
  });

  it.each([
    'HS256',
    'HS512',
    'RS256',
    'RS512',
    'PS384',
    'PS512',
    'ES384',
    'ES512',
    'ES256K',
    'Ed25519',
    'Ed448',
    'es256',
    'eddsa',
    'ps256',
    'ES256 ',
    ' ES256',
    '',
  ])('alg "%s" → ALG_NOT_ALLOWED', (alg) => {
    expect(codeOf(compactJws(recordHeader({ alg })))).toBe('ALG_NOT_ALLOWED');
  });

  it.each([
    ['missing', undefined],
    ['a number', 256],
    ['null', null],
    ['an array', ['ES256']],
    ['an object', { name: 'ES256' }],
    ['true', true],
  ])('alg %s → ALG_NOT_ALLOWED', (_name, alg) => {
    expect(codeOf(compactJws(recordHeader({ alg })))).toBe('ALG_NOT_ALLOWED');
  });

  it('alg with an escaped NUL: refused by the strict header parse before alg is read → HEADER_INVALID', () => {
    expect(codeOf(compactJws(recordHeader({ alg: 'ES256\u0000' })))).toBe('HEADER_INVALID');
  });

  it.each(['ES256', 'EdDSA', 'PS256'])('alg %s passes', (alg) => {
    expect(codeOf(compactJws(recordHeader({ alg })))).toBe('ok');
  });

  it('16: duplicate header members → HEADER_INVALID, whatever the order or the spelling', () => {
    const json = JSON.stringify(recordHeader());
    expect(codeOf(compactJws(json.replace('{', '{"alg":"none",')))).toBe('HEADER_INVALID');
    expect(codeOf(compactJws(json.replace('}', ',"alg":"none"}')))).toBe('HEADER_INVALID');
    expect(codeOf(compactJws(json.replace('{', '{"alg":"ES256",')))).toBe('HEADER_INVALID');
    expect(codeOf(compactJws(json.replace('{', '{"\\u0061lg":"none",')))).toBe('HEADER_INVALID');
    expect(codeOf(compactJws(json.replace('}', `,"x5c":${JSON.stringify(FAKE_X5C.slice(1))}}`)))).toBe(
      'HEADER_INVALID',
    );
  });

  it.each([
    ['b64 false', { b64: false }],
    ['b64 true', { b64: true }],
    ['b64 false with crit', { b64: false, crit: ['b64'] }],
    ['crit naming an unknown extension', { crit: ['exp'] }],
    ['empty crit', { crit: [] }],
  ])('17: %s → HEADER_INVALID', (_name, members) => {
    expect(codeOf(compactJws(recordHeader(members)))).toBe('HEADER_INVALID');
  });

  it.each([
    ['jku', { jku: 'http://127.0.0.1:9/jwks.json' }],
    ['x5u', { x5u: 'http://127.0.0.1:9/chain.pem' }],
  ])('18: %s pointing at a loopback listener → HEADER_INVALID', (_name, members) => {
    expect(codeOf(compactJws(recordHeader(members)))).toBe('HEADER_INVALID');
  });

  it("19: jwk with the attacker's own key, token signed by it → HEADER_INVALID", async () => {
    const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = await exportJWK(attacker.publicKey);
    const token = await new CompactSign(new TextEncoder().encode('{"schema":"aeo-status/1"}'))
      .setProtectedHeader({ alg: 'ES256', typ: 'aeo-status+jws', x5c: FAKE_X5C, kid: FAKE_KID, jwk })
      .sign(attacker.privateKey);
    expect(codeOf(token)).toBe('HEADER_INVALID');
  });

  it('the never-allowed members stay refused even under a profile that lists them', () => {
    const careless: JwsProfile = {
      ...RECORD_PROFILE,
      allowedHeaderMembers: ['alg', 'typ', 'x5c', 'kid', 'jwk'],
    };
    expect(codeOf(compactJws(recordHeader({ jwk: { kty: 'EC' } })), careless)).toBe('HEADER_INVALID');
  });

  it('alg is judged before the other members', () => {
    expect(codeOf(compactJws(recordHeader({ alg: 'none', jku: 'http://127.0.0.1/' })))).toBe(
      'ALG_NOT_ALLOWED',
    );
  });

  const hostileKids: [string, unknown][] = [
    ['SQL', "x'; DROP TABLE records; --"],
    ['SQL padded to 43 characters', "'; DROP TABLE records; -- aaaaaaaaaaaaaaaaa".slice(0, 43)],
    ['a path', '../../../../etc/passwd'],
    ['a path of 43 characters', '../../../../../../../../../../etc/passwd123'],
    ['NUL', '\u0000'],
    ['43 characters around a NUL', `${FAKE_KID.slice(0, 20)}\u0000${FAKE_KID.slice(21)}`],
    ['10,000 characters', 'A'.repeat(10_000)],
    ['42 characters', FAKE_KID.slice(0, 42)],
    ['44 characters', `${FAKE_KID}A`],
    ['43 characters with a non-canonical last one', nonCanonical(FAKE_KID)],
    ['43 characters with padding', `${FAKE_KID.slice(0, 42)}=`],
    ['43 characters of standard base64', `${FAKE_KID.slice(0, 41)}+/`],
    ['a number', 42],
    ['null', null],
    ['an array', [FAKE_KID]],
  ];
  it.each(hostileKids)('20: kid that is %s → HEADER_INVALID, not echoed in the detail', (_name, kid) => {
    const result = precheckCompactJws(compactJws(recordHeader({ kid })), RECORD_PROFILE);
    expect(result).toMatchObject({ ok: false, code: 'HEADER_INVALID' });
    if (!result.ok && typeof kid === 'string' && kid.length > 3) expect(result.detail).not.toContain(kid);
  });

  it('20: kid missing while x5c is required → HEADER_INVALID', () => {
    expect(codeOf(compactJws(recordHeader({ kid: undefined })))).toBe('HEADER_INVALID');
  });

  it.each([
    ['missing', undefined],
    ['JWT', 'JWT'],
    ['in capitals', 'AEO-STATUS+JWS'],
    ['with the media type prefix', 'application/aeo-status+jws'],
    ['with white space', 'aeo-status+jws '],
    ['another profile', 'aeo-receipt+jws'],
    ['an array', ['aeo-status+jws']],
  ])('21: typ %s → HEADER_INVALID', (_name, typ) => {
    expect(codeOf(compactJws(recordHeader({ typ })))).toBe('HEADER_INVALID');
  });

  it.each(['cty', 'x5t', 'x5t#S256', 'iat', 'ALG', 'Kid', 'zip', 'enc', 'url', 'nonce', 'toString', 'x'])(
    '21: unknown header member %s → HEADER_INVALID',
    (name) => {
      expect(codeOf(compactJws(recordHeader({ [name]: 'x' })))).toBe('HEADER_INVALID');
    },
  );

  it.each([
    ['__proto__', '{"__proto__":{"alg":"ES256"},'],
    ['constructor', '{"constructor":{"prototype":{}},'],
  ])('8/21: a %s member → HEADER_INVALID', (_name, prefix) => {
    expect(codeOf(compactJws(JSON.stringify(recordHeader()).replace('{', prefix)))).toBe('HEADER_INVALID');
  });
});

describe('docs/threats.md D22 and the x5c part of 29: x5c shape and encoding → HEADER_INVALID', () => {
  const pem = `-----BEGIN CERTIFICATE-----\n${FAKE_X5C[0]}\n-----END CERTIFICATE-----`;
  const wrapped = (FAKE_X5C[0] ?? '').replace(/(.{64})/g, '$1\n');
  it.each([
    ['22: missing', undefined],
    ['a string', FAKE_X5C[0]],
    ['an object', { 0: FAKE_X5C[0] }],
    ['null', null],
    ['empty', []],
    ['four certificates', [...FAKE_X5C, ...FAKE_X5C]],
    ['a number entry', [FAKE_X5C[0], 3]],
    ['a nested array entry', [[FAKE_X5C[0]]]],
    ['an empty entry', ['']],
    ['an entry of 12,001 characters', [`${'A'.repeat(11_996)}AAAAA`]],
    ['base64url', [Buffer.from(FAKE_LEAF_DER).toString('base64url')]],
    ['PEM', [pem]],
    ['line-wrapped base64', [wrapped]],
    [
      'base64 without its padding',
      [Buffer.from(FAKE_LEAF_DER.subarray(0, 100)).toString('base64').replace(/=+$/, '')],
    ],
    ['base64 with a non-canonical last character', ['Zh==']],
  ])('%s', (_name, x5c) => {
    expect(codeOf(compactJws(recordHeader({ x5c })))).toBe('HEADER_INVALID');
  });

  it('an entry of exactly 12,000 characters passes (the bound is the chain rules’ to tighten)', () => {
    expect(codeOf(compactJws(recordHeader({ x5c: [Buffer.alloc(9_000, 1).toString('base64')] })))).toBe('ok');
  });

  it('29: a 1 MiB certificate, in bounded time', () => {
    const huge = Buffer.alloc(1024 * 1024, 0x30).toString('base64');
    const started = performance.now();
    expect(codeOf(compactJws(recordHeader({ x5c: [huge] })))).toBe('JWS_MALFORMED'); // the token is over 256 KiB
    const big = Buffer.alloc(100 * 1024, 0x30).toString('base64');
    expect(codeOf(compactJws(recordHeader({ x5c: [big] })))).toBe('HEADER_INVALID');
    expect(performance.now() - started).toBeLessThan(200);
  });
});
