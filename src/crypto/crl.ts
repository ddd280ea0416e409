/**
 * Certificate revocation lists (RFC 5280 §5) as a partner publishes them, read from files: PEM `X509 CRL`
 * blocks or DER. The reader is strict (der.ts) and knows exactly the extensions it can honour; a delta or an
 * indirect CRL, or any critical extension it does not know, is refused rather than read partly. A CRL is only
 * used once its signature verifies with the key of a configured CA certificate whose subject is the CRL's
 * issuer, under the algorithm allow-list of certificates.
 */
import { OID as CERT_OID, pssHashOf } from './cert-fields.ts';
import {
  children,
  contextTag,
  type DerElement,
  DerError,
  decodeBitString,
  decodeBoolean,
  decodeDer,
  decodeOid,
  decodeSmallInteger,
  decodeTime,
  decodeWrapped,
  expectTag,
  integerKey,
  sequence,
  TAG,
} from './der.ts';

/** A CRL of a large CA holds a few hundred thousand entries; this bounds a wrong file, not a real one. */
export const MAX_CRL_BYTES = 32 * 1024 * 1024;

export interface ParsedCrl {
  issuerDer: Uint8Array;
  issuerName: string;
  thisUpdate: Date;
  nextUpdate: Date;
  /** Serial keys (der.ts integerKey) of the revoked certificates. */
  serials: readonly string[];
  tbs: Uint8Array;
  signatureAlgorithmOid: string;
  pssHash: string | undefined;
  signature: Uint8Array;
}

const CRL_EXT = {
  cRLNumber: '2.5.29.20',
  deltaCRLIndicator: '2.5.29.27',
  issuingDistributionPoint: '2.5.29.28',
  freshestCRL: '2.5.29.46',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
} as const;
/** CRL extensions whose meaning needs nothing from the receiver: they may be present, critical or not. */
const KNOWN_CRL_EXTENSIONS: ReadonlySet<string> = new Set([
  CERT_OID.authorityKeyIdentifier,
  CRL_EXT.cRLNumber,
  CRL_EXT.freshestCRL,
  CRL_EXT.authorityInfoAccess,
]);
const ENTRY_EXT = {
  reasonCode: '2.5.29.21',
  holdInstructionCode: '2.5.29.23',
  invalidityDate: '2.5.29.24',
  certificateIssuer: '2.5.29.29',
} as const;
const KNOWN_ENTRY_EXTENSIONS: ReadonlySet<string> = new Set([
  ENTRY_EXT.reasonCode,
  ENTRY_EXT.holdInstructionCode,
  ENTRY_EXT.invalidityDate,
]);

/** The CRLs in a file: every `X509 CRL` PEM block, or the whole file as one DER CRL. */
export function crlsInFile(bytes: Uint8Array): Uint8Array[] {
  if (bytes.length > MAX_CRL_BYTES)
    throw new DerError(`${bytes.length} octets is larger than a CRL file may be`);
  if (bytes[0] === TAG.SEQUENCE) return [bytes];
  const text = Buffer.from(bytes).toString('latin1');
  const blocks = text.match(/-----BEGIN X509 CRL-----[\s\S]*?-----END X509 CRL-----/g) ?? [];
  if (blocks.length === 0) throw new DerError('neither DER nor a PEM file with an X509 CRL block');
  return blocks.map((block, i) => {
    const b64 = block
      .slice('-----BEGIN X509 CRL-----'.length, -'-----END X509 CRL-----'.length)
      .replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0)
      throw new DerError(`PEM block ${i} is not base64`);
    return new Uint8Array(Buffer.from(b64, 'base64'));
  });
}

export function parseCrl(der: Uint8Array): ParsedCrl {
  const [tbs, sigAlg, sigValue, ...extra] = sequence(decodeDer(der), 'CertificateList');
  if (extra.length > 0) throw new DerError('CertificateList has more than three fields');
  const signature = decodeBitString(expectTag(sigValue, TAG.BIT_STRING, 'signatureValue'));
  if (signature.unusedBits !== 0) throw new DerError('signatureValue has unused bits');
  const fields = sequence(tbs, 'TBSCertList');
  let i = 0;
  if (fields[0]?.tag === TAG.INTEGER) {
    if (decodeSmallInteger(fields[0]) !== 1) throw new DerError('CRL version is not v2');
    i = 1;
  }
  const innerAlg = expectTag(fields[i], TAG.SEQUENCE, 'signature');
  if (Buffer.compare(innerAlg.raw, expectTag(sigAlg, TAG.SEQUENCE, 'signatureAlgorithm').raw) !== 0) {
    throw new DerError('TBSCertList signature differs from signatureAlgorithm');
  }
  const issuer = expectTag(fields[i + 1], TAG.SEQUENCE, 'issuer');
  const thisUpdate = decodeTime(fields[i + 2] ?? missing('thisUpdate'), 'thisUpdate');
  let next = i + 3;
  const nextField = fields[next];
  if (nextField === undefined || (nextField.tag !== TAG.UTC_TIME && nextField.tag !== TAG.GENERALIZED_TIME)) {
    throw new DerError('the CRL has no nextUpdate, so nobody can tell when it is out of date');
  }
  const nextUpdate = decodeTime(nextField, 'nextUpdate');
  next++;
  const serials: string[] = [];
  if (fields[next]?.tag === TAG.SEQUENCE) {
    for (const [n, entry] of sequence(fields[next], 'revokedCertificates').entries()) {
      serials.push(readEntry(entry, n));
    }
    next++;
  }
  const extensions = fields[next];
  if (extensions !== undefined) {
    if (extensions.tag !== contextTag(0, true) || next + 1 !== fields.length) {
      throw new DerError('unexpected field at the end of TBSCertList');
    }
    const [list, ...more] = children(extensions);
    if (more.length > 0) throw new DerError('crlExtensions [0] holds more than one element');
    readCrlExtensions(list);
  }
  if (nextUpdate.getTime() <= thisUpdate.getTime()) throw new DerError('nextUpdate is not after thisUpdate');
  const algorithm = sequence(sigAlg, 'signatureAlgorithm');
  const signatureAlgorithmOid = decodeOid(algorithm[0] ?? missing('signatureAlgorithm OID'));
  return {
    issuerDer: issuer.raw,
    issuerName: nameText(issuer),
    thisUpdate,
    nextUpdate,
    serials,
    tbs: tbs!.raw,
    signatureAlgorithmOid,
    pssHash: signatureAlgorithmOid === CERT_OID.rsassaPss ? pssHashOf(algorithm[1]) : undefined,
    signature: signature.bytes,
  };
}

/** identityKey of each revoked certificate: the CRL's issuer is their issuer (indirect CRLs are refused). */
function readEntry(entry: DerElement, n: number): string {
  const parts = sequence(entry, `revokedCertificates[${n}]`);
  const serial = integerKey(expectTag(parts[0], TAG.INTEGER, `revokedCertificates[${n}] userCertificate`));
  decodeTime(
    parts[1] ?? missing(`revokedCertificates[${n}] revocationDate`),
    `revokedCertificates[${n}] revocationDate`,
  );
  if (parts.length > 3) throw new DerError(`revokedCertificates[${n}] has extra fields`);
  if (parts[2] !== undefined) {
    for (const { oid, critical } of readExtensionList(parts[2], `revokedCertificates[${n}] extensions`)) {
      if (oid === ENTRY_EXT.certificateIssuer) {
        throw new DerError('an entry names another certificate issuer: indirect CRLs are not supported');
      }
      if (critical && !KNOWN_ENTRY_EXTENSIONS.has(oid)) {
        throw new DerError(`revokedCertificates[${n}] has an unknown critical extension ${oid}`);
      }
    }
  }
  return serial;
}

function readCrlExtensions(list: DerElement | undefined): void {
  for (const { oid, critical, value } of readExtensionList(list, 'crlExtensions')) {
    if (oid === CRL_EXT.deltaCRLIndicator)
      throw new DerError('a delta CRL is not supported: give the full CRL');
    if (oid === CRL_EXT.issuingDistributionPoint) {
      readIssuingDistributionPoint(value);
    } else if (critical && !KNOWN_CRL_EXTENSIONS.has(oid)) {
      throw new DerError(`the CRL has an unknown critical extension ${oid}`);
    }
  }
}

/**
 * IssuingDistributionPoint (RFC 5280 §5.2.5). A CRL scoped to user or CA certificates only still revokes
 * what it lists; an indirect CRL, or one covering only some reasons, would say nothing about the rest, so both
 * are refused.
 */
function readIssuingDistributionPoint(value: DerElement): void {
  for (const field of sequence(decodeWrapped(value), 'issuingDistributionPoint')) {
    if (field.tag === contextTag(3, false)) {
      throw new DerError('a CRL covering only some revocation reasons (onlySomeReasons) is not supported');
    }
    if (field.tag === contextTag(4, false) && field.value.length === 1 && field.value[0] === 0xff) {
      throw new DerError('an indirect CRL is not supported');
    }
    if (field.tag === contextTag(5, false) && field.value[0] === 0xff) {
      throw new DerError('a CRL of attribute certificates only revokes no certificate');
    }
  }
}

function readExtensionList(
  el: DerElement | undefined,
  what: string,
): { oid: string; critical: boolean; value: DerElement }[] {
  const seen = new Set<string>();
  const entries = sequence(el, what);
  if (entries.length === 0) throw new DerError(`empty ${what}`);
  return entries.map((ext) => {
    const parts = sequence(ext, 'Extension');
    const oid = decodeOid(parts[0] ?? missing('extnID'));
    if (seen.has(oid)) throw new DerError(`${what}: extension ${oid} appears twice`);
    seen.add(oid);
    const hasCritical = parts[1]?.tag === TAG.BOOLEAN;
    const critical = hasCritical ? decodeBoolean(parts[1]!) : false;
    const value = expectTag(parts[hasCritical ? 2 : 1], TAG.OCTET_STRING, `extnValue of ${oid}`);
    if (parts.length !== (hasCritical ? 3 : 2)) throw new DerError(`extension ${oid} has extra fields`);
    return { oid, critical, value };
  });
}

const ATTRIBUTE_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
};

/** A Name as `C=PE, O=…, CN=…` for messages only; never compared. */
function nameText(name: DerElement): string {
  const parts: string[] = [];
  for (const rdn of children(name)) {
    for (const atv of children(rdn)) {
      const [type, value] = children(atv);
      const oid = decodeOid(type ?? missing('AttributeType'));
      const text = value === undefined ? '' : Buffer.from(value.value).toString('utf8');
      parts.push(`${ATTRIBUTE_NAMES[oid] ?? oid}=${text.replace(/[^\x20-\x7e\u00a0-\uffff]/g, '?')}`);
    }
  }
  return parts.join(', ') || '(empty name)';
}

function missing(what: string): never {
  throw new DerError(`${what}: missing`);
}
