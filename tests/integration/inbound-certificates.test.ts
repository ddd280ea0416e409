/**
 * docs/threats.md D 22 to 31 (and the key-type half of C 15) over HTTP. The receiver EU trusts partner PE's real development CA and, as further
 * anchors of PE, the roots of tests/support/pki.ts (one P-256, one RSA), so that the bad chains of
 * pki-cases.ts reach a real anchor and fail on the rule under test only. PE's revocation names one leaf.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCertificate, toPem } from '../../src/crypto/cert-builder.ts';
import { makeAdmins, type TestAdmins } from '../support/admins.ts';
import { b64u, chainHeader, type ForgeAlg, forgeJws, signerHeader } from '../support/forge.ts';
import { expectRejected, outcomes, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { devNames } from '../support/issue.ts';
import { keyPair, LEAF_DEFAULTS, makeCert, makePki, ROOT_NAME, type TestPki } from '../support/pki.ts';
import * as bad from '../support/pki-cases.ts';
import { freshRecord } from '../support/records.ts';

const DAY = 24 * 3600 * 1000;
const fromNow = (days: number) => new Date(Date.now() + days * DAY);

let admins: TestAdmins;
let gw: TestGateway;
let dir: string;
let revoked: TestPki;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mra-d-'));
  const anchors = [makePki().rootDer, makePki({ root: { key: 'rsa2048' } }).rootDer];
  writeFileSync(join(dir, 'pki-roots.pem'), anchors.map((d) => toPem(d)).join(''));
  revoked = makePki({ leaf: { keyRole: 'revoked' } });
  writeFileSync(join(dir, 'revoked.pem'), toPem(revoked.leafDer));
  admins = makeAdmins(['EU', 'PE'], {
    edit: (id, raw) => {
      if (id !== 'EU') return;
      const pe = raw.partners.find((p) => p.adminId === 'PE')!;
      pe.trustAnchors = [...pe.trustAnchors, join(dir, 'pki-roots.pem')];
      pe.revocation = { certificates: [join(dir, 'revoked.pem')] };
    },
  });
  gw = await startTestGateway(admins.get('EU').config, 'embedded');
});
afterAll(async () => {
  await gw?.close();
  admins.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

const pe = () => admins.get('PE').config.home.signers[0]!;
function algOf(key: KeyObject): ForgeAlg {
  if (key.asymmetricKeyType === 'ed25519' || key.asymmetricKeyType === 'ed448') return 'EdDSA';
  return key.asymmetricKeyType === 'ec' ? 'ES256' : 'PS256';
}
/** A record of PE signed by `pki`'s leaf key, with `pki`'s chain in x5c. */
function signedBy(pki: Pick<TestPki, 'chainDer' | 'leafKey'>, record = freshRecord('PE')): string {
  const alg = algOf(pki.leafKey);
  return forgeJws({ header: chainHeader(pki.chainDer, alg), payload: record, key: pki.leafKey, signAs: alg });
}
async function timed<T>(work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  const result = await work();
  expect(Date.now() - started).toBeLessThan(10_000);
  return result;
}

it('accepts records signed through each configured anchor and each algorithm (the baseline below)', async () => {
  const tokens = [
    signedBy(makePki({ intermediate: {} })),
    signedBy(makePki({ intermediate: {}, sendRoot: true })),
    signedBy(makePki({ root: { key: 'rsa2048' } })),
    signedBy(makePki({ leaf: { key: 'ed25519' } })),
    signedBy(makePki({ leaf: { key: 'rsa2048' } })),
    signedBy(makePki({ leaf: { key: 'rsapss2048' } })),
    signedBy({ chainDer: pe().chain.map((c) => c.der), leafKey: pe().key }),
  ];
  expect(outcomes((await gw.send(tokens)).results)).toEqual(tokens.map(() => 'accepted'));
});

it('15: an alg the leaf key cannot make (RSA leaf and ES256, RSA-PSS key bound to SHA-512) → ALG_NOT_ALLOWED', async () => {
  const record = freshRecord('PE');
  const rsa = makePki({ leaf: { key: 'rsa2048' } });
  const ed = makePki({ leaf: { key: 'ed25519' } });
  const pss512 = generateKeyPairSync('rsa-pss', {
    modulusLength: 2048,
    hashAlgorithm: 'sha512',
    mgf1HashAlgorithm: 'sha512',
  });
  const pssDer = buildCertificate({
    subjectPublicKey: pss512.publicKey,
    issuerPrivateKey: keyPair('p256', 'root').privateKey,
    subject: LEAF_DEFAULTS.name,
    issuer: ROOT_NAME,
    notBefore: fromNow(-1),
    notAfter: fromNow(30),
    basicConstraints: { ca: false },
    keyUsage: ['digitalSignature'],
  });
  const as = (chainDer: Uint8Array[], alg: string, signature: Uint8Array) =>
    forgeJws({ header: chainHeader(chainDer, alg as ForgeAlg), payload: record, signature });
  const junk = (n: number) => new Uint8Array(n).fill(7);
  await expectRejected(
    gw,
    {
      es256OnRsaLeaf: as(rsa.chainDer, 'ES256', junk(64)),
      eddsaOnRsaLeaf: as(rsa.chainDer, 'EdDSA', junk(64)),
      ps256OnEd25519Leaf: as(ed.chainDer, 'PS256', junk(256)),
      ps256OnPssSha512Leaf: as([pssDer], 'PS256', junk(256)),
    },
    'ALG_NOT_ALLOWED',
    [record],
    { ps256OnPssSha512Leaf: /does not match the key type/ },
  );
});

describe('D. certificates and keys', () => {
  it('22: no x5c, or an x5c that is not a list of certificates → HEADER_INVALID', async () => {
    const record = freshRecord('PE');
    const { x5c: _x5c, ...noX5c } = signerHeader(pe());
    const as = (header: Record<string, unknown>) => forgeJws({ header, payload: record, key: pe().key });
    await expectRejected(
      gw,
      {
        noX5c: as(noX5c),
        empty: as({ ...noX5c, x5c: [] }),
        string: as({ ...noX5c, x5c: pe().x5c[0] }),
        numbers: as({ ...noX5c, x5c: [1] }),
      },
      'HEADER_INVALID',
      [record],
    );
  });

  it('23, 24, 25, 27, 31: untrusted chains and leaves → CERT_UNTRUSTED', async () => {
    const record = freshRecord('PE');
    // PE's real signing certificate (an end entity) issuing a leaf of its own.
    const eeIssued = makeCert({ keyRole: 'under-ee' }, LEAF_DEFAULTS, {
      name: devNames('PE').signing,
      privateKey: pe().key,
    });
    const results = await expectRejected(
      gw,
      {
        selfSigned: signedBy(bad.selfSignedLeaf(), record),
        sameNameRootSent: signedBy(bad.sameNameRootOtherKey(true), record),
        sameNameRootNamed: signedBy(bad.sameNameRootOtherKey(false), record),
        issuerWithoutBasicConstraints: signedBy(bad.endEntityIssuer('absent'), record),
        issuerCaFalse: signedBy(bad.endEntityIssuer('false'), record),
        issuedByRealSigningLeaf: signedBy(
          { chainDer: [eeIssued.der, pe().chain[0]!.der], leafKey: eeIssued.key.privateKey },
          record,
        ),
        noKeyUsage: signedBy(bad.leafWithoutDigitalSignature('absent'), record),
        noDigitalSignature: signedBy(bad.leafWithoutDigitalSignature('other'), record),
        revoked: signedBy(revoked, record),
        unknownRoot: signedBy(makePki({ root: { keyRole: 'elsewhere' } }), record),
      },
      'CERT_UNTRUSTED',
      [record],
      {
        sameNameRootSent: /does not chain to a trust anchor/,
        sameNameRootNamed: /does not chain to a trust anchor/,
        issuerWithoutBasicConstraints: /not a CA/,
        issuerCaFalse: /not a CA/,
        issuedByRealSigningLeaf: /not a CA/,
        noKeyUsage: /keyUsage/,
        noDigitalSignature: /digitalSignature/,
        revoked: /revoked by PE/,
      },
    );
    expect(results).toHaveLength(10);
  });

  it('26: leaf or intermediate expired or not yet valid → CERT_EXPIRED', async () => {
    const record = freshRecord('PE');
    const expired = { notBefore: fromNow(-60), notAfter: fromNow(-1) };
    const future = { notBefore: fromNow(1), notAfter: fromNow(400) };
    await expectRejected(
      gw,
      {
        leafExpired: signedBy(makePki({ intermediate: {}, leaf: expired }), record),
        leafNotYetValid: signedBy(makePki({ intermediate: {}, leaf: future }), record),
        intermediateExpired: signedBy(makePki({ intermediate: expired }), record),
        intermediateNotYetValid: signedBy(makePki({ intermediate: future }), record),
      },
      'CERT_EXPIRED',
      [record],
      {
        leafExpired: /x5c\[0\] expired/,
        leafNotYetValid: /x5c\[0\] is not valid before/,
        intermediateExpired: /x5c\[1\] expired/,
        intermediateNotYetValid: /x5c\[1\] is not valid before/,
      },
    );
  });

  it('28, 30: keys outside the profile, weak certificate signatures, unknown critical extensions → CERT_UNTRUSTED', async () => {
    const record = freshRecord('PE');
    await timed(() =>
      expectRejected(
        gw,
        {
          rsa1024: signedBy(bad.weakLeafKey('rsa1024'), record),
          rsaExponent3: signedBy(bad.weakLeafKey('rsa2048e3'), record),
          rsaExponent1: signedBy(bad.weakLeafKey('rsa2048e1'), record),
          p384: signedBy(bad.weakLeafKey('p384'), record),
          p521: signedBy(bad.weakLeafKey('p521'), record),
          secp256k1: signedBy(bad.weakLeafKey('secp256k1'), record),
          ed448: signedBy(bad.weakLeafKey('ed448'), record),
          sha1: signedBy(bad.weakSignature('sha1'), record),
          md5: signedBy(bad.weakSignature('md5'), record),
          ecdsaSha1: signedBy(makePki({ leaf: { signatureHash: 'sha1' } }), record),
          unknownCritical: signedBy(bad.unknownCriticalExtension(), record),
        },
        'CERT_UNTRUSTED',
        [record],
        {
          rsa1024: /RSA key of 1024 bits/,
          rsaExponent3: /exponent 3/,
          rsaExponent1: /exponent 1 /,
          p521: /secp521r1/,
          secp256k1: /secp256k1/,
          sha1: /sha1WithRSAEncryption/,
          md5: /md5WithRSAEncryption/,
          ecdsaSha1: /ecdsa-with-SHA1/,
          unknownCritical: /unknown critical extension/,
        },
      ),
    );
  });

  it('29: disordered, repeated, oversized or mis-encoded chains are refused in bounded time', async () => {
    const record = freshRecord('PE');
    const pki = makePki({ intermediate: {}, sendRoot: true });
    const withX5c = (x5c: unknown) =>
      forgeJws({ header: { ...chainHeader(pki.chainDer), x5c }, payload: record, key: pki.leafKey });
    const std = pki.chainDer.map((d) => Buffer.from(d).toString('base64'));
    const url = pki.chainDer.map((d) => b64u(d));
    expect(url).not.toEqual(std);
    await timed(() =>
      expectRejected(
        gw,
        {
          outOfOrder: signedBy(bad.outOfOrder(), record),
          repeated: signedBy(bad.repeated(), record),
          notDer: withX5c(['AAAA', std[1]]),
          // 8.5 KiB of DER-looking bytes: under the x5c length bound, over the certificate size bound.
          oversizedDer: withX5c([Buffer.alloc(8700, 0x30).toString('base64')]),
        },
        'CERT_UNTRUSTED',
        [record],
        { repeated: /repeats/, notDer: /not a well-formed DER/, oversizedDer: /at most 8192/ },
      ),
    );
    await timed(() =>
      expectRejected(
        gw,
        {
          fourCertificates: signedBy(bad.fourCertificates(), record),
          base64url: withX5c(url),
          pem: withX5c(pki.chainDer.map((d) => toPem(d))),
          entryTooLong: withX5c([Buffer.alloc(9003, 1).toString('base64')]),
        },
        'HEADER_INVALID',
        [record],
        { fourCertificates: /1 to 3/, base64url: /canonical standard base64/, pem: /canonical/ },
      ),
    );
    await timed(() =>
      expectRejected(
        gw,
        { oneMebibyteCertificate: withX5c([Buffer.alloc(1024 * 1024, 0x30).toString('base64')]) },
        'JWS_MALFORMED',
        [record],
      ),
    );
  });
});

describe('I 72: what the signing certificate is for', () => {
  it('a CA leaf, a TLS certificate, critical name or policy constraints → CERT_UNTRUSTED', async () => {
    const record = freshRecord('PE');
    const critical = (oid: string, ...bytes: number[]) => ({
      oid,
      critical: true,
      valueDer: Uint8Array.from(bytes),
    });
    const nameConstraints = critical(
      '2.5.29.30',
      0x30,
      0x09,
      0xa0,
      0x07,
      0x30,
      0x05,
      0x82,
      0x03,
      0x2e,
      0x70,
      0x65,
    );
    const policyConstraints = critical('2.5.29.36', 0x30, 0x03, 0x80, 0x01, 0x00);
    await expectRejected(
      gw,
      {
        caLeaf: signedBy(makePki({ leaf: { basicConstraints: { ca: true } } }), record),
        serverAuthOnly: signedBy(makePki({ leaf: { extKeyUsage: ['serverAuth'] } }), record),
        clientAuthOnly: signedBy(makePki({ leaf: { extKeyUsage: ['clientAuth'] } }), record),
        tlsCertificate: signedBy(makePki({ leaf: { extKeyUsage: ['serverAuth', 'clientAuth'] } }), record),
        nameConstraints: signedBy(makePki({ intermediate: { extraExtensions: [nameConstraints] } }), record),
        policyConstraints: signedBy(
          makePki({ intermediate: { extraExtensions: [policyConstraints] } }),
          record,
        ),
      },
      'CERT_UNTRUSTED',
      [record],
      {
        caLeaf: /x5c\[0\] is a CA certificate/,
        serverAuthOnly: /TLS certificate/,
        clientAuthOnly: /TLS certificate/,
        tlsCertificate: /TLS certificate/,
        nameConstraints: /x5c\[1\] has a critical nameConstraints extension/,
        policyConstraints: /x5c\[1\] has a critical policyConstraints extension/,
      },
    );
  });

  it('a leaf whose extKeyUsage names more than TLS signs', async () => {
    const token = signedBy(makePki({ leaf: { extKeyUsage: ['clientAuth', 'emailProtection'] } }));
    expect(outcomes((await gw.send([token])).results)).toEqual(['accepted']);
  });
});
