/** parseCompactJws remembers headers that passed: a header seen before must be judged exactly as the first time. */
import { describe, expect, it } from 'vitest';
import { parseCompactJws, precheckCompactJws, RECORD_PROFILE } from '../../src/crypto/compact-jws.ts';
import { b64url, compactJws, nonCanonical, PAYLOAD_SEGMENT, recordHeader } from '../support/jws.ts';

const HEADER = recordHeader();
const TOKEN = compactJws(HEADER);

describe('parseCompactJws with a header seen before', () => {
  it('gives the same result the second time as the first', () => {
    const first = precheckCompactJws(TOKEN, RECORD_PROFILE);
    const second = precheckCompactJws(TOKEN, RECORD_PROFILE);
    expect(first.ok).toBe(true);
    expect(second).toEqual(first);
  });

  it('hands each caller its own header: changing one changes no later result', () => {
    for (let i = 0; i < 2; i++) {
      const result = parseCompactJws(TOKEN);
      if (!result.ok) throw new Error(result.detail);
      expect(result.header).toEqual(HEADER);
      result.header.alg = 'none';
      (result.header.x5c as string[]).push('AAAA');
    }
    const last = parseCompactJws(TOKEN);
    if (!last.ok) throw new Error(last.detail);
    expect(last.header).toEqual(HEADER);
    expect(last.alg).toBe('ES256');
  });

  it('still judges the payload and the signature of each token, with the same codes and order', () => {
    expect(parseCompactJws(TOKEN).ok).toBe(true);
    const bad = (payload: string, signature: string) => {
      const r = parseCompactJws(compactJws(HEADER, payload, signature));
      return r.ok ? 'ok' : `${r.code}: ${r.detail}`;
    };
    expect(bad(nonCanonical(b64url('{"a":1}')), b64url('sigs'))).toBe(
      'JWS_MALFORMED: payload is not canonical base64url',
    );
    expect(bad(PAYLOAD_SEGMENT, nonCanonical(b64url('sigs')))).toBe(
      'JWS_MALFORMED: signature is not canonical base64url',
    );
    expect(bad(PAYLOAD_SEGMENT, '')).toBe('JWS_MALFORMED: empty signature');
    expect(bad(PAYLOAD_SEGMENT, b64url('sigs'))).toBe('ok');
  });

  it('never remembers a header that failed', () => {
    const forbidden = compactJws(recordHeader({ jku: 'https://example.test/keys' }));
    for (let i = 0; i < 2; i++) {
      const r = parseCompactJws(forbidden);
      expect(r.ok ? 'ok' : r.code).toBe('HEADER_INVALID');
    }
  });
});
