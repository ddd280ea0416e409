import { describe, expect, it } from 'vitest';
import {
  type JwsProfile,
  MAX_TOKEN_LENGTH,
  precheckCompactJws,
  RECEIPT_PROFILE,
  RECORD_PROFILE,
  REQUEST_PROFILE,
} from '../../src/crypto/compact-jws.ts';
import {
  b64url,
  codeOf,
  compactJws,
  FAKE_CA_DER,
  FAKE_KID,
  FAKE_LEAF_DER,
  nonCanonical,
  PAYLOAD_SEGMENT,
  recordHeader,
} from '../support/jws.ts';

const VALID = compactJws(recordHeader());
const [H, P, S] = VALID.split('.') as [string, string, string];

describe('precheckCompactJws: a well-formed record token', () => {
  it('passes, with every part decoded and the segments kept as received', () => {
    const result = precheckCompactJws(VALID, RECORD_PROFILE);
    if (!result.ok) throw new Error(result.detail);
    expect(result.alg).toBe('ES256');
    expect(result.header).toEqual(recordHeader());
    expect([result.protectedSegment, result.payloadSegment, result.signatureSegment]).toEqual([H, P, S]);
    expect(Buffer.from(result.payloadBytes).toString()).toBe('{"schema":"aeo-status/1"}');
    expect(result.signature).toEqual(new Uint8Array(64).fill(7));
    expect(result.x5c).toEqual([FAKE_LEAF_DER, FAKE_CA_DER]);
    expect(result.kid).toBe(FAKE_KID);
  });

  it('does not parse the payload or judge the signature length (both come later)', () => {
    expect(codeOf(compactJws(recordHeader(), b64url('not json {')))).toBe('ok');
    expect(codeOf(compactJws(recordHeader(), ''))).toBe('ok');
    expect(codeOf(compactJws(recordHeader(), PAYLOAD_SEGMENT, b64url(new Uint8Array(63))))).toBe('ok');
    expect(codeOf(compactJws(recordHeader(), PAYLOAD_SEGMENT, b64url(new Uint8Array(65))))).toBe('ok');
  });

  it('exports three profiles that differ only in typ', () => {
    for (const [profile, typ] of [
      [RECORD_PROFILE, 'aeo-status+jws'],
      [RECEIPT_PROFILE, 'aeo-receipt+jws'],
      [REQUEST_PROFILE, 'mra-request+jws'],
    ] as const) {
      expect(profile).toEqual({ typ, requireX5c: true, allowedHeaderMembers: ['alg', 'typ', 'x5c', 'kid'] });
      expect(Object.isFrozen(profile)).toBe(true);
      expect(codeOf(compactJws(recordHeader({ typ })), profile)).toBe('ok');
    }
    // A record cannot be replayed as a receipt or a request token.
    expect(codeOf(VALID, RECEIPT_PROFILE)).toBe('HEADER_INVALID');
    expect(codeOf(VALID, REQUEST_PROFILE)).toBe('HEADER_INVALID');
  });

  it('under a profile without x5c, x5c and kid are optional', () => {
    const profile: JwsProfile = {
      typ: 't',
      requireX5c: false,
      allowedHeaderMembers: ['alg', 'typ', 'x5c', 'kid'],
    };
    const result = precheckCompactJws(compactJws({ alg: 'EdDSA', typ: 't' }), profile);
    expect(result).toMatchObject({ ok: true, x5c: [], kid: undefined });
    expect(codeOf(compactJws({ alg: 'EdDSA', typ: 't', x5c: [] }), profile)).toBe('HEADER_INVALID');
  });
});

describe('docs/threats.md B: structure and encoding → JWS_MALFORMED', () => {
  it.each([
    ['not a string: undefined', undefined],
    ['not a string: null', null],
    ['not a string: number', 42],
    ['not a string: bytes', Buffer.from(VALID)],
    ['not a string: object', { protected: H, payload: P, signature: S }],
  ])('%s', (_name, token) => {
    expect(codeOf(token)).toBe('JWS_MALFORMED');
  });

  it.each([
    ['9: empty string', ''],
    ['9: "."', '.'],
    ['9: ".."', '..'],
    ['9: "..."', '...'],
    ['9: one segment', H],
    ['9: two segments', `${H}.${P}`],
    ['9: four segments', `${H}.${P}.${S}.${S}`],
    ['9: trailing dot after three segments', `${VALID}.`],
    ['9: trailing dot after two segments (empty signature)', `${H}.${P}.`],
    ['9: empty header', `.${P}.${S}`],
    ['9: leading dot', `.${VALID}`],
  ])('%s', (_name, token) => {
    expect(codeOf(token)).toBe('JWS_MALFORMED');
  });

  const whitespace = { space: ' ', tab: '\t', newline: '\n', CR: '\r', 'non-breaking space': '\u00a0' };
  for (const [name, ws] of Object.entries(whitespace)) {
    it(`10: ${name} inside the header, payload or signature segment, or around the token`, () => {
      expect(codeOf(`${H.slice(0, 10)}${ws}${H.slice(10)}.${P}.${S}`)).toBe('JWS_MALFORMED');
      expect(codeOf(`${H}.${P.slice(0, 5)}${ws}${P.slice(5)}.${S}`)).toBe('JWS_MALFORMED');
      expect(codeOf(`${H}.${P}.${S.slice(0, 20)}${ws}${S.slice(20)}`)).toBe('JWS_MALFORMED');
      expect(codeOf(`${VALID}${ws}`)).toBe('JWS_MALFORMED');
      expect(codeOf(`${ws}${VALID}`)).toBe('JWS_MALFORMED');
    });
  }

  it.each(['=', '+', '/', '?', '#', '%', '*', '\\'])('11: "%s" in any segment', (char) => {
    expect(codeOf(`${H}${char}.${P}.${S}`)).toBe('JWS_MALFORMED');
    expect(codeOf(`${H}.${char}${P}.${S}`)).toBe('JWS_MALFORMED');
    expect(codeOf(`${H}.${P}.${S}${char}`)).toBe('JWS_MALFORMED');
  });

  it('11: padding that completes a segment to a multiple of 4', () => {
    const pad = (s: string): string => s + '='.repeat((4 - (s.length % 4)) % 4);
    expect(S.length % 4).not.toBe(0);
    expect(codeOf(`${H}.${P}.${pad(S)}`)).toBe('JWS_MALFORMED');
  });

  it('11: the standard alphabet where base64url has - and _', () => {
    const bytes = new Uint8Array(64).fill(0xfb); // encodes to '+' and '/' in base64, '-' and '_' in base64url
    const standard = Buffer.from(bytes).toString('base64').replace(/=+$/, '');
    expect(standard).toMatch(/[+/]/);
    expect(codeOf(`${H}.${P}.${b64url(bytes)}`)).toBe('ok');
    expect(codeOf(`${H}.${P}.${standard}`)).toBe('JWS_MALFORMED');
    expect(codeOf(`${H}.${standard}.${S}`)).toBe('JWS_MALFORMED');
  });

  it('11: a non-canonical last character in the header, payload or signature', () => {
    const header = b64url(JSON.stringify(recordHeader({ typ: 'aeo-status+jws' })));
    const payload = b64url('{"a":1}');
    expect([header.length % 4, payload.length % 4, S.length % 4].every((n) => n === 2 || n === 3)).toBe(true);
    expect(codeOf(`${header}.${payload}.${S}`)).toBe('ok');
    expect(codeOf(`${nonCanonical(header)}.${payload}.${S}`)).toBe('JWS_MALFORMED');
    expect(codeOf(`${header}.${nonCanonical(payload)}.${S}`)).toBe('JWS_MALFORMED');
    expect(codeOf(`${header}.${payload}.${nonCanonical(S)}`)).toBe('JWS_MALFORMED');
  });

  it('11: a segment whose length mod 4 is 1', () => {
    expect(`${S}AAA`.length % 4).toBe(1);
    expect(codeOf(`${H}.${P}.${S}AAA`)).toBe('JWS_MALFORMED');
  });

  it.each([
    ['flattened JSON serialization', JSON.stringify({ protected: H, payload: P, signature: S })],
    [
      'general JSON serialization',
      JSON.stringify({ payload: P, signatures: [{ protected: H, signature: S }] }),
    ],
  ])('12: %s', (_name, token) => {
    expect(codeOf(token)).toBe('JWS_MALFORMED');
  });

  it.each([
    ['an array', '[{"alg":"ES256"}]'],
    ['a string', '"ES256"'],
    ['a number', '256'],
    ['null', 'null'],
    ['not JSON', 'alg=ES256'],
    ['JSON with a trailing comma', '{"alg":"ES256",}'],
    ['two objects', '{"alg":"ES256"}{}'],
  ])('12: a header that is %s', (_name, header) => {
    expect(codeOf(compactJws(header))).toBe('JWS_MALFORMED');
  });

  it('12: a header with invalid UTF-8, a BOM, a lone surrogate, or nested deeper than 16', () => {
    const json = JSON.stringify(recordHeader());
    const latin1 = Buffer.from(json.replace('"ES256"', '"ES256", "n\u00e9":1'), 'latin1');
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(json)]);
    expect(codeOf(`${b64url(latin1)}.${P}.${S}`)).toBe('JWS_MALFORMED');
    expect(codeOf(`${b64url(bom)}.${P}.${S}`)).toBe('JWS_MALFORMED');
    expect(codeOf(compactJws(json.replace('"typ"', '"x":"\\ud800","typ"')))).toBe('JWS_MALFORMED');
    const deep = `${'['.repeat(16)}${']'.repeat(16)}`;
    expect(codeOf(compactJws(json.replace('"typ"', `"x":${deep},"typ"`)))).toBe('JWS_MALFORMED');
  });

  it('a token longer than 256 KiB, in bounded time', () => {
    const token = compactJws(recordHeader(), 'A'.repeat(MAX_TOKEN_LENGTH));
    const started = performance.now();
    expect(codeOf(token)).toBe('JWS_MALFORMED');
    expect(performance.now() - started).toBeLessThan(50);
  });
});
