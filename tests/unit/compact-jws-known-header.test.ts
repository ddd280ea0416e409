/** parseCompactJws remembers headers that passed: a header seen before must be judged exactly as the first time. */
import { describe, expect, it } from 'vitest';
import {
  type JwsProfile,
  parseCompactJws,
  precheckCompactJws,
  RECORD_PROFILE,
  REQUEST_PROFILE,
} from '../../src/crypto/compact-jws.ts';
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

describe('precheckCompactJws with a header seen before', () => {
  it('judges it anew under another profile: accepted as a record, still refused as a request', () => {
    expect(precheckCompactJws(TOKEN, RECORD_PROFILE).ok).toBe(true);
    const asRequest = precheckCompactJws(TOKEN, REQUEST_PROFILE);
    expect(asRequest.ok).toBe(false);
  });

  it('hands each caller its own certificates: changing them changes no later result', () => {
    const first = precheckCompactJws(TOKEN, RECORD_PROFILE);
    if (!first.ok) throw new Error('refused');
    const der = Uint8Array.from(first.x5c[0]!);
    first.x5c[0]![0] = 0xff;
    (first.x5c as Uint8Array[]).push(new Uint8Array(1));
    const again = precheckCompactJws(TOKEN, RECORD_PROFILE);
    if (!again.ok) throw new Error('refused');
    expect(again.x5c).toHaveLength(first.x5c.length - 1);
    expect(again.x5c[0]).toEqual(der);
  });

  it('remembers nothing for a profile that could change: it is judged as it is at each call', () => {
    const members = [...RECORD_PROFILE.allowedHeaderMembers];
    const unfrozen: JwsProfile = { ...RECORD_PROFILE, allowedHeaderMembers: members };
    expect(precheckCompactJws(TOKEN, unfrozen).ok).toBe(true);
    members.splice(members.indexOf('kid'), 1);
    expect(precheckCompactJws(TOKEN, unfrozen).ok).toBe(false);
    const list = [...RECORD_PROFILE.allowedHeaderMembers];
    const halfFrozen = Object.freeze({ ...RECORD_PROFILE, allowedHeaderMembers: list });
    expect(precheckCompactJws(TOKEN, halfFrozen).ok).toBe(true);
    list.splice(list.indexOf('kid'), 1);
    expect(precheckCompactJws(TOKEN, halfFrozen).ok).toBe(false);
  });
});
