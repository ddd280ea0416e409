/**
 * The strict front of the verifier: everything about a compact JWS that can be judged before any key is
 * touched (docs/protocol.md, "Signing profile"; docs/threats.md B and C). jose verifies signatures but accepts lenient
 * base64url, duplicate header members, `b64: false` and any `typ` (docs/protocol.md), so a token reaches it only
 * after passing here, and jose then verifies exactly the segments checked here.
 *
 * Two layers: parseCompactJws holds the rules every token of the gateway obeys whatever its kind (encoding,
 * header JSON, the algorithm allow-list, the members that are never allowed); precheckCompactJws adds a
 * profile's rules (exact member set, `typ`, `x5c`, `kid`). The Wycheproof harness runs the first layer alone,
 * since its tokens carry no `typ` or `x5c`.
 *
 * Failure details name the rule, never the offending value: a hostile `kid` or `alg` must not reach the logs.
 */
import type { RecordRejectionCode } from '../errors.ts';
import { decodeBase64Strict, decodeBase64urlStrict } from './base64url.ts';
import { parseStrictJsonObject } from './strict-json.ts';
import type { StrictJsonFailure } from './strict-json-parser.ts';
import { ALLOWED_ALGORITHMS, type CheckResult, fail, type SigningAlgorithm } from './types.ts';

export interface JwsProfile {
  typ: string;
  requireX5c: boolean;
  allowedHeaderMembers: readonly string[];
}

/** A token that obeys the rules common to every profile. The segments are exactly the received text. */
export interface ParsedCompactJws {
  header: Record<string, unknown>;
  alg: SigningAlgorithm;
  protectedSegment: string;
  payloadSegment: string;
  signatureSegment: string;
  /** Decoded but not parsed: the caller parses it strictly once the signature holds. */
  payloadBytes: Uint8Array;
  signature: Uint8Array;
}

export interface PrecheckedJws extends ParsedCompactJws {
  /** DER certificates, leaf first; empty when the profile does not require `x5c` and the token has none. */
  x5c: Uint8Array[];
  /** Format checked only; whether it is the leaf's thumbprint is for the caller to check. */
  kid: string | undefined;
}

/** Far above a record with a three-certificate chain (about 10 KiB), far below the request body limit. */
export const MAX_TOKEN_LENGTH = 256 * 1024;
export const MAX_HEADER_DEPTH = 16;
const MAX_X5C_CERTIFICATES = 3;
/** About 9 KB of DER: generous for an RSA-4096 certificate, small enough to refuse before any parsing. */
const MAX_X5C_ENTRY_LENGTH = 12_000;
/** base64url of a SHA-256 digest. */
const KID_LENGTH = 43;

/**
 * No key is ever fetched or taken from the message (jku, x5u, jwk), the payload is always base64url (b64) and
 * no extension is negotiated (crit). These are refused by name even if a profile were to list them.
 */
const NEVER_ALLOWED_MEMBERS = ['jku', 'x5u', 'jwk', 'b64', 'crit'] as const;

const SIGNED_OBJECT_MEMBERS = Object.freeze(['alg', 'typ', 'x5c', 'kid'] as const);

export const RECORD_PROFILE: JwsProfile = Object.freeze({
  typ: 'aeo-status+jws',
  requireX5c: true,
  allowedHeaderMembers: SIGNED_OBJECT_MEMBERS,
});
export const RECEIPT_PROFILE: JwsProfile = Object.freeze({
  typ: 'aeo-receipt+jws',
  requireX5c: true,
  allowedHeaderMembers: SIGNED_OBJECT_MEMBERS,
});
export const REQUEST_PROFILE: JwsProfile = Object.freeze({
  typ: 'mra-request+jws',
  requireX5c: true,
  allowedHeaderMembers: SIGNED_OBJECT_MEMBERS,
});

/**
 * Bytes that are not a well-formed JSON object of Unicode text make the token malformed; a well-formed header
 * that says something ambiguous or forbidden (a repeated member, 1e400, an escaped NUL) is an invalid header.
 */
const HEADER_JSON_CODES: Readonly<Record<StrictJsonFailure, RecordRejectionCode>> = {
  'invalid-utf8': 'JWS_MALFORMED',
  bom: 'JWS_MALFORMED',
  syntax: 'JWS_MALFORMED',
  'too-deep': 'JWS_MALFORMED',
  'lone-surrogate': 'JWS_MALFORMED',
  'string-too-long': 'JWS_MALFORMED',
  'array-too-long': 'JWS_MALFORMED',
  'not-an-object': 'JWS_MALFORMED',
  'duplicate-member': 'HEADER_INVALID',
  'forbidden-member-name': 'HEADER_INVALID',
  'number-out-of-range': 'HEADER_INVALID',
  'control-character': 'HEADER_INVALID',
};

/**
 * Every record a partner signs with one certificate carries the same protected header, so the header rules of
 * parseCompactJws (strict base64url, strict JSON, alg, the members never allowed), which depend on the header
 * text alone, are judged once per distinct text and their verdict reused; so are those of precheckCompactJws
 * (members, typ, x5c, kid), which depend on the header text and the profile alone, per frozen profile. Only
 * headers that passed are remembered, so a failing header is judged in full and in order every time, and each
 * caller gets its own copy of the parsed header and of the x5c certificates. Bounded in entries and in length.
 */
const ACCEPTED_HEADERS_MAX = 64;
const ACCEPTED_HEADER_MAX_LENGTH = 16 * 1024;

interface AcceptedHeader {
  header: unknown;
  alg: SigningAlgorithm;
  /** What precheckCompactJws took from the header under each (frozen) profile it passed. */
  profiles: WeakMap<JwsProfile, { x5c: readonly Uint8Array[]; kid: string | undefined }>;
}
const acceptedHeaders = new Map<string, AcceptedHeader>();

function rememberAcceptedHeader(text: string, header: Record<string, unknown>, alg: SigningAlgorithm): void {
  if (text.length > ACCEPTED_HEADER_MAX_LENGTH) return;
  if (acceptedHeaders.size >= ACCEPTED_HEADERS_MAX) {
    const oldest = acceptedHeaders.keys().next().value;
    if (oldest !== undefined) acceptedHeaders.delete(oldest);
  }
  acceptedHeaders.set(text, { header: copyJson(header), alg, profiles: new WeakMap() });
}

/**
 * The entry found last: a partner's records arrive one after another with the same header, and comparing its
 * text with this one costs far less than hashing it (two kilobytes with its x5c) to look it up in the map.
 */
let lastAccepted: { text: string; entry: AcceptedHeader } | undefined;

function acceptedHeader(text: string): AcceptedHeader | undefined {
  if (lastAccepted !== undefined && lastAccepted.text === text) return lastAccepted.entry;
  const entry = acceptedHeaders.get(text);
  if (entry !== undefined) lastAccepted = { text, entry };
  return entry;
}

/** A profile that cannot change, so that a verdict under it can be reused. */
function isFrozenProfile(profile: JwsProfile): boolean {
  return Object.isFrozen(profile) && Object.isFrozen(profile.allowedHeaderMembers);
}

/** A deep copy of a value made by parseStrictJson (whose objects never hold __proto__ or constructor). */
function copyJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copyJson);
  if (value === null || typeof value !== 'object') return value;
  const copy: Record<string, unknown> = {};
  for (const [name, member] of Object.entries(value)) copy[name] = copyJson(member);
  return copy;
}

function isAllowedAlgorithm(alg: unknown): alg is SigningAlgorithm {
  return typeof alg === 'string' && (ALLOWED_ALGORITHMS as readonly string[]).includes(alg);
}

/** The rules every token obeys whatever its profile, in the order of docs/threats.md B then C. */
export function parseCompactJws(token: unknown): CheckResult<ParsedCompactJws> {
  if (typeof token !== 'string') return fail('JWS_MALFORMED', 'token is not a string');
  if (token.length > MAX_TOKEN_LENGTH) return fail('JWS_MALFORMED', `token longer than ${MAX_TOKEN_LENGTH}`);
  const firstDot = token.indexOf('.');
  const secondDot = firstDot < 0 ? -1 : token.indexOf('.', firstDot + 1);
  if (secondDot < 0 || token.indexOf('.', secondDot + 1) >= 0) {
    return fail('JWS_MALFORMED', 'not a compact JWS of three segments');
  }
  const protectedSegment = token.slice(0, firstDot);
  const payloadSegment = token.slice(firstDot + 1, secondDot);
  const signatureSegment = token.slice(secondDot + 1);
  if (protectedSegment === '') return fail('JWS_MALFORMED', 'empty protected header');

  const known = acceptedHeader(protectedSegment);
  if (known !== undefined) {
    // The same checks as below, in the same order, less those on the header text, which it passed before.
    const payloadBytes = decodeBase64urlStrict(payloadSegment);
    if (payloadBytes === null) return fail('JWS_MALFORMED', 'payload is not canonical base64url');
    const signature = decodeBase64urlStrict(signatureSegment);
    if (signature === null) return fail('JWS_MALFORMED', 'signature is not canonical base64url');
    if (signature.length === 0) return fail('JWS_MALFORMED', 'empty signature');
    const header = copyJson(known.header) as Record<string, unknown>;
    return {
      ok: true,
      header,
      alg: known.alg,
      protectedSegment,
      payloadSegment,
      signatureSegment,
      payloadBytes,
      signature,
    };
  }

  const headerBytes = decodeBase64urlStrict(protectedSegment);
  if (headerBytes === null) return fail('JWS_MALFORMED', 'protected header is not canonical base64url');
  const payloadBytes = decodeBase64urlStrict(payloadSegment);
  if (payloadBytes === null) return fail('JWS_MALFORMED', 'payload is not canonical base64url');
  const signature = decodeBase64urlStrict(signatureSegment);
  if (signature === null) return fail('JWS_MALFORMED', 'signature is not canonical base64url');

  const parsed = parseStrictJsonObject(headerBytes, { maxDepth: MAX_HEADER_DEPTH });
  if (!parsed.ok) return fail(HEADER_JSON_CODES[parsed.reason], `protected header: ${parsed.detail}`);
  const header = parsed.value;

  const alg = header.alg;
  if (!isAllowedAlgorithm(alg))
    return fail('ALG_NOT_ALLOWED', `alg must be one of ${ALLOWED_ALGORITHMS.join(', ')}`);
  // Judged after alg, so that an unsigned `alg: none` token is reported as what it is (docs/threats.md 13).
  if (signature.length === 0) return fail('JWS_MALFORMED', 'empty signature');

  for (const name of NEVER_ALLOWED_MEMBERS) {
    if (Object.hasOwn(header, name)) return fail('HEADER_INVALID', `header member ${name} is not allowed`);
  }
  rememberAcceptedHeader(protectedSegment, header, alg);
  return {
    ok: true,
    header,
    alg,
    protectedSegment,
    payloadSegment,
    signatureSegment,
    payloadBytes,
    signature,
  };
}

export function precheckCompactJws(token: unknown, profile: JwsProfile): CheckResult<PrecheckedJws> {
  const jws = parseCompactJws(token);
  if (!jws.ok) return jws;
  const accepted = acceptedHeader(jws.protectedSegment);
  const known = accepted?.profiles.get(profile);
  if (known !== undefined) return { ...jws, x5c: known.x5c.map((der) => der.slice()), kid: known.kid };

  const checked = checkProfile(jws.header, profile);
  if (!checked.ok) return checked;
  const { x5c, kid } = checked;
  if (accepted !== undefined && isFrozenProfile(profile)) {
    accepted.profiles.set(profile, { x5c: x5c.map((der) => der.slice()), kid });
  }
  return { ...jws, x5c, kid };
}

/** The profile's rules, on the header alone. */
function checkProfile(
  header: Record<string, unknown>,
  profile: JwsProfile,
): CheckResult<{ x5c: Uint8Array[]; kid: string | undefined }> {
  for (const name of Object.keys(header)) {
    if (!profile.allowedHeaderMembers.includes(name)) return fail('HEADER_INVALID', 'unknown header member');
  }
  if (header.typ !== profile.typ) return fail('HEADER_INVALID', `typ must be ${profile.typ}`);

  let x5c: Uint8Array[] = [];
  if (Object.hasOwn(header, 'x5c') || profile.requireX5c) {
    const chain = decodeX5c(header.x5c);
    if (!chain.ok) return chain;
    x5c = chain.certificates;
  }

  const kid = header.kid;
  if (kid === undefined) {
    if (profile.requireX5c) return fail('HEADER_INVALID', 'kid is required with x5c');
  } else if (typeof kid !== 'string' || kid.length !== KID_LENGTH || decodeBase64urlStrict(kid) === null) {
    return fail('HEADER_INVALID', 'kid must be the base64url SHA-256 thumbprint of x5c[0]');
  }
  return { ok: true, x5c, kid };
}

/** Shape and encoding only, each bounded before decoding; the chain rules come later, on DER. */
function decodeX5c(value: unknown): CheckResult<{ certificates: Uint8Array[] }> {
  if (value === undefined) return fail('HEADER_INVALID', 'x5c is required');
  if (!Array.isArray(value) || value.length < 1 || value.length > MAX_X5C_CERTIFICATES) {
    return fail('HEADER_INVALID', `x5c must be an array of 1 to ${MAX_X5C_CERTIFICATES} certificates`);
  }
  for (const entry of value) {
    if (typeof entry !== 'string' || entry.length === 0 || entry.length > MAX_X5C_ENTRY_LENGTH) {
      return fail('HEADER_INVALID', `x5c entries must be strings of 1 to ${MAX_X5C_ENTRY_LENGTH} characters`);
    }
  }
  const certificates: Uint8Array[] = [];
  for (const entry of value as string[]) {
    const der = decodeBase64Strict(entry);
    if (der === null) return fail('HEADER_INVALID', 'x5c entry is not canonical standard base64 DER');
    certificates.push(der);
  }
  return { ok: true, certificates };
}
