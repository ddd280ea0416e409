/**
 * The fields of a certificate that the chain rules need and node:crypto does not expose faithfully, read from
 * its DER with der.ts: the names and serial as bytes, the extensions the rules apply (node's `ca` flag, for
 * one, says nothing about an absent extension), the signature algorithm and its RSASSA-PSS hash. The structure
 * is checked as it is read, so a certificate that is not DER as RFC 5280 describes it is refused here.
 */
import {
  bitIsSet,
  children,
  contextTag,
  type DerElement,
  DerError,
  decodeBitString,
  decodeBoolean,
  decodeDer,
  decodeOid,
  decodeSmallInteger,
  decodeWrapped,
  expectTag,
  integerKey,
  sequence,
  TAG,
} from './der.ts';
import type { KeyUsageName } from './types.ts';

/** Object identifiers the certificate rules name: extensions, and the RSASSA-PSS signature algorithm. */
export const OID = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  subjectAltName: '2.5.29.17',
  certificatePolicies: '2.5.29.32',
  nameConstraints: '2.5.29.30',
  policyConstraints: '2.5.29.36',
  inhibitAnyPolicy: '2.5.29.54',
  rsassaPss: '1.2.840.113549.1.1.10',
} as const;

/**
 * Extensions whose meaning the chain rules apply, so that they may be critical. Name constraints, policy
 * constraints, inhibitAnyPolicy and certificate policies are not enforced: when critical they make the
 * certificate untrusted (RFC 5280 §4.2), which is safer than half-enforcing them.
 */
const KNOWN_EXTENSIONS: ReadonlySet<string> = new Set([
  OID.basicConstraints,
  OID.keyUsage,
  OID.extKeyUsage,
  OID.subjectKeyIdentifier,
  OID.authorityKeyIdentifier,
  OID.subjectAltName,
]);

/** keyUsage bit numbers of RFC 5280 §4.2.1.3, in order. */
export const KEY_USAGE_BITS: readonly KeyUsageName[] = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
];

const HASH_OIDS: Readonly<Record<string, string>> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

/** Facts the chain rules need that ParsedCertificate (a shared type) has no field for. */
export interface CertificateExtras {
  /** basicConstraints pathLenConstraint; undefined when absent. */
  pathLen: number | undefined;
  /** For RSASSA-PSS signatures, the hash named in the parameters ('sha1' when defaulted); else undefined. */
  pssHash: string | undefined;
}

interface DerFields extends CertificateExtras {
  signatureAlgorithmOid: string;
  spki: Uint8Array;
  issuerDer: Uint8Array;
  subjectDer: Uint8Array;
  serial: string;
  basicConstraintsCa: boolean | undefined;
  keyUsage: ReadonlySet<KeyUsageName> | undefined;
  extKeyUsage: ReadonlySet<string> | undefined;
  unknownCriticalExtensions: string[];
}

/** Reads and checks the structure of a certificate's DER: every field below, or DerError. */
export function readDerFields(der: Uint8Array): DerFields {
  const [tbs, sigAlg, sigValue, ...extra] = sequence(decodeDer(der), 'Certificate');
  if (extra.length > 0) throw new DerError('Certificate has more than three fields');
  expectTag(sigValue, TAG.BIT_STRING, 'signatureValue');
  const outerAlg = sequence(sigAlg, 'signatureAlgorithm');
  const tbsFields = sequence(tbs, 'TBSCertificate');
  let i = 0;
  let v3 = false;
  if (tbsFields[0]?.tag === contextTag(0, true)) {
    const [version, ...rest] = children(tbsFields[0]);
    if (rest.length > 0 || version === undefined || decodeSmallInteger(version) !== 2) {
      throw new DerError('version is not v3');
    }
    i = 1;
    v3 = true;
  }
  const serial = integerKey(expectTag(tbsFields[i], TAG.INTEGER, 'serialNumber'));
  const innerAlg = expectTag(tbsFields[i + 1], TAG.SEQUENCE, 'signature');
  // RFC 5280 §4.1.1.2: both must be identical, or a verifier could be told one algorithm and use another.
  if (!sameBytes(innerAlg.raw, sigAlg!.raw))
    throw new DerError('TBSCertificate signature differs from signatureAlgorithm');
  const issuer = expectTag(tbsFields[i + 2], TAG.SEQUENCE, 'issuer');
  expectTag(tbsFields[i + 3], TAG.SEQUENCE, 'validity');
  const subject = expectTag(tbsFields[i + 4], TAG.SEQUENCE, 'subject');
  const spki = expectTag(tbsFields[i + 5], TAG.SEQUENCE, 'subjectPublicKeyInfo');
  const rest = tbsFields.slice(i + 6);
  if (!v3 && rest.length > 0) throw new DerError('fields after subjectPublicKeyInfo in a v1 certificate');
  const extensions = readExtensions(rest);
  const signatureAlgorithmOid = decodeOid(outerAlg[0] ?? missing('signatureAlgorithm OID'));
  return {
    signatureAlgorithmOid,
    pssHash: signatureAlgorithmOid === OID.rsassaPss ? pssHashOf(outerAlg[1]) : undefined,
    spki: spki.raw,
    issuerDer: issuer.raw,
    subjectDer: subject.raw,
    serial,
    ...extensions,
  };
}

type ExtensionFields = Pick<
  DerFields,
  'basicConstraintsCa' | 'pathLen' | 'keyUsage' | 'extKeyUsage' | 'unknownCriticalExtensions'
>;

/** Reads the optional issuerUniqueID [1], subjectUniqueID [2] and extensions [3], in that order. */
function readExtensions(rest: DerElement[]): ExtensionFields {
  const out: ExtensionFields = {
    basicConstraintsCa: undefined,
    pathLen: undefined,
    keyUsage: undefined,
    extKeyUsage: undefined,
    unknownCriticalExtensions: [],
  };
  let next = 0;
  if (rest[next]?.tag === contextTag(1, false)) next++;
  if (rest[next]?.tag === contextTag(2, false)) next++;
  const wrapper = rest[next];
  if (wrapper === undefined) return out;
  if (wrapper.tag !== contextTag(3, true) || next + 1 !== rest.length) {
    throw new DerError('unexpected field after subjectPublicKeyInfo');
  }
  const [list, ...more] = children(wrapper);
  if (more.length > 0) throw new DerError('extensions [3] holds more than one element');
  const seen = new Set<string>();
  const entries = sequence(list, 'extensions');
  if (entries.length === 0) throw new DerError('empty extensions');
  for (const ext of entries) {
    const parts = sequence(ext, 'Extension');
    const extnId = decodeOid(parts[0] ?? missing('extnID'));
    if (seen.has(extnId)) throw new DerError(`extension ${extnId} appears twice`);
    seen.add(extnId);
    const hasCritical = parts[1]?.tag === TAG.BOOLEAN;
    // An explicit FALSE is not DER (it is the default) but is common in the wild and means the same thing.
    const critical = hasCritical ? decodeBoolean(parts[1]!) : false;
    const value = expectTag(parts[hasCritical ? 2 : 1], TAG.OCTET_STRING, `extnValue of ${extnId}`);
    if (parts.length !== (hasCritical ? 3 : 2)) throw new DerError(`extension ${extnId} has extra fields`);
    if (extnId === OID.basicConstraints) {
      const bc = readBasicConstraints(value);
      out.basicConstraintsCa = bc.ca;
      out.pathLen = bc.pathLen;
    } else if (extnId === OID.keyUsage) {
      out.keyUsage = readKeyUsage(value);
    } else if (extnId === OID.extKeyUsage) {
      out.extKeyUsage = readExtKeyUsage(value);
    } else if (critical && !KNOWN_EXTENSIONS.has(extnId)) {
      out.unknownCriticalExtensions.push(extnId);
    }
  }
  return out;
}

function readBasicConstraints(value: DerElement): { ca: boolean; pathLen: number | undefined } {
  const parts = sequence(decodeWrapped(value), 'basicConstraints');
  let ca = false;
  let next = 0;
  if (parts[0]?.tag === TAG.BOOLEAN) {
    ca = decodeBoolean(parts[0]);
    next = 1;
  }
  let pathLen: number | undefined;
  if (parts[next] !== undefined) {
    pathLen = decodeSmallInteger(parts[next]!);
    next++;
  }
  if (next !== parts.length) throw new DerError('basicConstraints has extra fields');
  return { ca, pathLen };
}

function readKeyUsage(value: DerElement): ReadonlySet<KeyUsageName> {
  const bits = decodeBitString(decodeWrapped(value));
  const names = new Set<KeyUsageName>();
  KEY_USAGE_BITS.forEach((name, n) => {
    if (bitIsSet(bits, n)) names.add(name);
  });
  return names;
}

/** ExtKeyUsageSyntax: SEQUENCE SIZE (1..MAX) OF KeyPurposeId. */
function readExtKeyUsage(value: DerElement): ReadonlySet<string> {
  const purposes = sequence(decodeWrapped(value), 'extKeyUsage');
  if (purposes.length === 0) throw new DerError('empty extKeyUsage');
  return new Set(purposes.map(decodeOid));
}

/** RSASSA-PSS-params (RFC 4055): hashAlgorithm [0] defaults to SHA-1, which the profile refuses. */
export function pssHashOf(params: DerElement | undefined): string {
  if (params === undefined) return 'sha1';
  const fields = sequence(params, 'RSASSA-PSS-params');
  const hashField = fields.find((f) => f.tag === contextTag(0, true));
  if (hashField === undefined) return 'sha1';
  const [alg] = children(hashField);
  const oid = decodeOid(sequence(alg, 'hashAlgorithm')[0] ?? missing('hashAlgorithm OID'));
  return HASH_OIDS[oid] ?? oid;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

function missing(what: string): never {
  throw new DerError(`${what}: missing`);
}
