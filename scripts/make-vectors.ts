/**
 * Writes the protocol's test vectors to docs/vectors: two administrations' two-level PKIs (root → issuing CA →
 * signing leaf), a signed record, the receipt for it, a request token and a snapshot with its digest. The
 * content is fixed; keys are made afresh on each run, so regenerating changes certificates and signatures
 * only. The certificates are built with the same profile as the development CA (src/crypto/dev-ca.ts) but with
 * a fixed validity, 2026-01-01 to 2036-12-31, so that checks against the vectors keep passing for a decade.
 *
 *   npx node scripts/make-vectors.ts [directory]
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildCertificate, type DistinguishedName, toPem } from '../src/crypto/cert-builder.ts';
import { parseCertificate } from '../src/crypto/certificate.ts';
import { RECEIPT_PROFILE, RECORD_PROFILE, REQUEST_PROFILE } from '../src/crypto/compact-jws.ts';
import { recordDigest } from '../src/crypto/digest.ts';
import { signCompactJws } from '../src/crypto/jws-verify.ts';
import { lineOf, snapshotDigest } from '../src/protocol/snapshot-digest.ts';

const NOT_BEFORE = new Date('2026-01-01T00:00:00Z');
const NOT_AFTER = new Date('2036-12-31T23:59:59Z');
/** The moment every vector is checked at; tokens and receipts are dated just before it. */
export const CHECK_AT = '2026-06-01T12:00:00Z';

interface Pki {
  adminId: string;
  rootPem: string;
  issuingPem: string;
  leafPem: string;
  x5c: string[];
  kid: string;
  key: KeyObject;
}

function makePki(adminId: string): Pki {
  const org = `${adminId} customs administration (test vectors)`;
  const rootName: DistinguishedName = {
    commonName: `${adminId} MRA vectors root CA`,
    organization: org,
    country: adminId,
  };
  const issuingName: DistinguishedName = {
    commonName: `${adminId} MRA vectors issuing CA`,
    organization: org,
    country: adminId,
  };
  const root = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const issuing = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const leaf = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const validity = { notBefore: NOT_BEFORE, notAfter: NOT_AFTER };
  const rootDer = buildCertificate({
    subjectPublicKey: root.publicKey,
    issuerPrivateKey: root.privateKey,
    subject: rootName,
    issuer: rootName,
    ...validity,
    basicConstraints: { ca: true, pathLen: 1 },
    keyUsage: ['keyCertSign', 'cRLSign'],
  });
  const issuingDer = buildCertificate({
    subjectPublicKey: issuing.publicKey,
    issuerPrivateKey: root.privateKey,
    subject: issuingName,
    issuer: rootName,
    ...validity,
    basicConstraints: { ca: true, pathLen: 0 },
    keyUsage: ['keyCertSign', 'cRLSign'],
  });
  const leafDer = buildCertificate({
    subjectPublicKey: leaf.publicKey,
    issuerPrivateKey: issuing.privateKey,
    subject: { commonName: `${adminId} MRA record signing`, organization: org, country: adminId },
    issuer: issuingName,
    ...validity,
    basicConstraints: { ca: false },
    keyUsage: ['digitalSignature'],
  });
  return {
    adminId,
    rootPem: toPem(rootDer),
    issuingPem: toPem(issuingDer),
    leafPem: toPem(leafDer),
    // The anchor is left out of x5c, as a request token must (header size) and records may.
    x5c: [Buffer.from(leafDer).toString('base64'), Buffer.from(issuingDer).toString('base64')],
    kid: parseCertificate(leafDer).thumbprint,
    key: leaf.privateKey,
  };
}

function sign(pki: Pki, typ: string, payload: unknown): Promise<string> {
  return signCompactJws(
    Buffer.from(JSON.stringify(payload), 'utf8'),
    { alg: 'ES256', typ, x5c: pki.x5c, kid: pki.kid },
    pki.key,
  );
}

function record(n: number, aeoId: string, version: number, status: string): Record<string, unknown> {
  return {
    schema: 'aeo-status/1',
    recordId: `3f1c2a4e-7b5d-4c1e-9a2b-00000000000${n}`,
    issuer: 'PE',
    issuedAt: '2026-05-01T10:00:00Z',
    version,
    operator: {
      aeoId,
      identifiers: [{ scheme: 'TIN', value: `2010000000${n}` }],
      name: `Exportadora Andina ${n} S.A.C.`,
      address: { street: 'Av. Argentina 1234', city: 'Callao', postcode: '07001', country: 'PE' },
      roles: ['exporter', 'manufacturer'],
      enterpriseSize: 'medium',
    },
    programme: 'AEO-F',
    status,
    statusSince: '2026-04-15',
    certifiedOn: '2021-03-10',
    lastValidatedOn: '2025-03-10',
  };
}

export async function makeVectors(dir: string): Promise<void> {
  const pe = makePki('PE');
  const cl = makePki('CL');
  mkdirSync(dir, { recursive: true });
  const put = (name: string, text: string) => writeFileSync(join(dir, name), text);
  for (const pki of [pe, cl]) {
    const id = pki.adminId.toLowerCase();
    put(`${id}-root.pem`, pki.rootPem);
    put(`${id}-issuing-ca.pem`, pki.issuingPem);
    put(`${id}-signing.pem`, pki.leafPem);
  }

  // PE publishes three operators; the first record is the one pushed to CL and acknowledged below.
  const payloads = [record(1, 'PEAEO0001', 3, 'certified'), record(2, 'PEAEO0002', 1, 'suspended')];
  (payloads[1] as { suspendedUntil?: string }).suspendedUntil = '2026-07-31';
  payloads.push(record(3, 'PEAEO0003', 7, 'withdrawn'));
  const records = await Promise.all(payloads.map((p) => sign(pe, RECORD_PROFILE.typ, p)));
  put('record.jws', `${records[0]}\n`);
  put('record.payload.json', `${JSON.stringify(payloads[0], null, 2)}\n`);

  const receiptPayload = {
    schema: 'aeo-receipt/1',
    receiptId: '9b2e6c1d-0f4a-4e8b-8c3d-5a6b7c8d9e0f',
    sender: 'PE',
    receiver: 'CL',
    receivedAt: '2026-05-01T10:00:02.345Z',
    results: [
      {
        index: 0,
        recordId: payloads[0]?.recordId,
        digest: recordDigest(records[0] as string),
        outcome: 'accepted',
      },
    ],
  };
  put('receipt.jws', `${await sign(cl, RECEIPT_PROFILE.typ, receiptPayload)}\n`);
  put('receipt.payload.json', `${JSON.stringify(receiptPayload, null, 2)}\n`);

  const iat = Math.floor(Date.parse(CHECK_AT) / 1000) - 30;
  const tokenPayload = {
    iss: 'CL',
    aud: 'PE',
    iat,
    exp: iat + 120,
    jti: 'c0ffee00-1234-4abc-8def-0123456789ab',
  };
  put('request-token.jws', `${await sign(cl, REQUEST_PROFILE.typ, tokenPayload)}\n`);
  put('request-token.payload.json', `${JSON.stringify(tokenPayload, null, 2)}\n`);

  const snapshot = records.map((jws, i) => {
    const p = payloads[i] as { issuer: string; version: number; operator: { aeoId: string } };
    return { issuer: p.issuer, aeoId: p.operator.aeoId, version: p.version, recordDigest: recordDigest(jws) };
  });
  put('snapshot.records.jws', `${records.join('\n')}\n`);
  const sorted = snapshot
    .map((l) => Buffer.from(lineOf(l), 'utf8'))
    .sort(Buffer.compare)
    .map((b) => b.toString('utf8'));
  put('snapshot.lines.txt', sorted.join(''));
  put(
    'expected.json',
    `${JSON.stringify(
      {
        checkAt: CHECK_AT,
        certificatesValid: { notBefore: NOT_BEFORE.toISOString(), notAfter: NOT_AFTER.toISOString() },
        record: {
          file: 'record.jws',
          signer: 'PE',
          anchor: 'pe-root.pem',
          kid: pe.kid,
          payload: 'record.payload.json',
        },
        receipt: {
          file: 'receipt.jws',
          signer: 'CL',
          anchor: 'cl-root.pem',
          kid: cl.kid,
          payload: 'receipt.payload.json',
        },
        requestToken: {
          file: 'request-token.jws',
          signer: 'CL',
          anchor: 'cl-root.pem',
          kid: cl.kid,
          payload: 'request-token.payload.json',
        },
        snapshot: {
          records: 'snapshot.records.jws',
          lines: 'snapshot.lines.txt',
          count: 3,
          digest: snapshotDigest(snapshot),
        },
      },
      null,
      2,
    )}\n`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = resolve(process.argv[2] ?? 'docs/vectors');
  await makeVectors(dir);
  process.stdout.write(`vectors written to ${dir}\n`);
}
