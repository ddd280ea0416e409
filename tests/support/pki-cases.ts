/**
 * The bad chains of docs/threats.md section D, one function each, numbered as there. Each returns a chain and the
 * anchors of the partner it claims to come from; the good PKI is `makePki()`.
 */
import type { SignatureHash } from '../../src/crypto/cert-builder.ts';
import {
  days,
  INTERMEDIATE_DEFAULTS,
  type KeySpec,
  LEAF_DEFAULTS,
  makeCert,
  makePki,
  ROOT_NAME,
  type TestPki,
  unknownExtension,
} from './pki.ts';

/** 23: a leaf that signed itself, presented to a partner with a real root. */
export function selfSignedLeaf(): TestPki {
  const real = makePki();
  const leaf = makeCert({ keyRole: 'attacker' }, LEAF_DEFAULTS, undefined);
  return { ...real, chainDer: [leaf.der], leafKey: leaf.key.privateKey, leafDer: leaf.der };
}

/** 24: a look-alike root (same subject name as the anchor, another key), sent or only named as issuer. */
export function sameNameRootOtherKey(sendRoot: boolean): TestPki {
  const real = makePki();
  const impostor = makePki({ root: { keyRole: 'impostor', name: ROOT_NAME }, sendRoot });
  return { ...impostor, anchors: real.anchors };
}

/** 25: the leaf's issuer is an end-entity certificate (no basicConstraints, or cA FALSE) under the anchor. */
export function endEntityIssuer(kind: 'absent' | 'false'): TestPki {
  return makePki({
    intermediate: { basicConstraints: kind === 'absent' ? 'absent' : { ca: false }, keyUsage: 'absent' },
  });
}

/** 26: leaf or intermediate out of its validity at NOW. */
export function outOfValidity(which: 'leaf' | 'intermediate', when: 'expired' | 'notYetValid'): TestPki {
  const dates =
    when === 'expired'
      ? { notBefore: days(-60), notAfter: days(-1) }
      : { notBefore: days(1), notAfter: days(400) };
  return which === 'leaf' ? makePki({ intermediate: {}, leaf: dates }) : makePki({ intermediate: dates });
}

/** 27: leaf without digitalSignature: no keyUsage at all, or one without that bit. */
export function leafWithoutDigitalSignature(kind: 'absent' | 'other'): TestPki {
  return makePki({
    leaf: { keyUsage: kind === 'absent' ? 'absent' : ['keyEncipherment', 'nonRepudiation'] },
  });
}

/** 28: a leaf key outside the profile (RSA 1024, e = 1 or 3, P-384, P-521, secp256k1, Ed448). */
export function weakLeafKey(key: KeySpec): TestPki {
  return makePki({ leaf: { key } });
}

/** 29: four certificates: root, two intermediates, leaf; every link sound. */
export function fourCertificates(): TestPki {
  const pki = makePki({ intermediate: {}, sendRoot: true });
  const second = makeCert(
    { keyRole: 'intermediate-2', name: { commonName: 'PE test second issuing CA' } },
    INTERMEDIATE_DEFAULTS,
    { name: INTERMEDIATE_DEFAULTS.name, privateKey: pki.intermediateKey! },
  );
  const leaf = makeCert({}, LEAF_DEFAULTS, { name: second.name, privateKey: second.key.privateKey });
  return { ...pki, chainDer: [leaf.der, second.der, pki.intermediateDer!, pki.rootDer], leafDer: leaf.der };
}

/** 29: root sent before the intermediate. */
export function outOfOrder(): TestPki {
  const pki = makePki({ intermediate: {}, sendRoot: true });
  return { ...pki, chainDer: [pki.leafDer, pki.rootDer, pki.intermediateDer!] };
}

/** 29: the intermediate twice. */
export function repeated(): TestPki {
  const pki = makePki({ intermediate: {} });
  return { ...pki, chainDer: [pki.leafDer, pki.intermediateDer!, pki.intermediateDer!] };
}

/** 30: leaf signed with SHA-1 or MD5 by an RSA root (ECDSA has no MD5 form). */
export function weakSignature(hash: Extract<SignatureHash, 'sha1' | 'md5'>): TestPki {
  return makePki({ root: { key: 'rsa2048' }, leaf: { signatureHash: hash } });
}

/** 30: leaf with a critical extension nobody knows. */
export function unknownCriticalExtension(): TestPki {
  return makePki({ leaf: { extraExtensions: [unknownExtension(true)] } });
}
