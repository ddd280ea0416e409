/**
 * The test vectors of docs/vectors, checked twice: by the gateway's own verifier, and by an independent tool
 * (the openssl command line) that shares no code with it: the certificate chain, the ES256 signature over the
 * JWS signing input, each record digest and the snapshot digest over the documented lines.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePemCertificates } from '../../src/crypto/certificate.ts';
import {
  type JwsProfile,
  RECEIPT_PROFILE,
  RECORD_PROFILE,
  REQUEST_PROFILE,
} from '../../src/crypto/compact-jws.ts';
import { recordDigest } from '../../src/crypto/digest.ts';
import type { TrustStore } from '../../src/crypto/types.ts';
import { verifySignedObject } from '../../src/crypto/verify-signed.ts';
import { snapshotDigest } from '../../src/protocol/snapshot-digest.ts';
import { type SchemaName, validateAgainst } from '../../src/validation.ts';

const DIR = join(import.meta.dirname, '../../docs/vectors');
const read = (name: string): string => readFileSync(join(DIR, name), 'utf8');
const token = (name: string): string => read(name).trim();

interface Signed {
  file: string;
  signer: string;
  anchor: string;
  kid: string;
  payload: string;
}
interface Expected {
  checkAt: string;
  certificatesValid: { notBefore: string; notAfter: string };
  record: Signed;
  receipt: Signed;
  requestToken: Signed;
  snapshot: { records: string; lines: string; count: number; digest: string };
}
const expected = JSON.parse(read('expected.json')) as Expected;
const at = new Date(expected.checkAt);

function store(adminId: string): TrustStore {
  const id = adminId.toLowerCase();
  return { adminId, anchors: parsePemCertificates(read(`${id}-root.pem`)), revokedFingerprints: new Set() };
}
const stores = [store('PE'), store('CL')];

const cases: { name: string; vector: Signed; profile: JwsProfile; schema: SchemaName }[] = [
  { name: 'record', vector: expected.record, profile: RECORD_PROFILE, schema: 'aeo-status-1' },
  { name: 'receipt', vector: expected.receipt, profile: RECEIPT_PROFILE, schema: 'aeo-receipt-1' },
  { name: 'request token', vector: expected.requestToken, profile: REQUEST_PROFILE, schema: 'mra-request-1' },
];

describe("test vectors, the gateway's own verifier", () => {
  it.each(cases)('the $name verifies under its signer anchors, with the documented payload', async (c) => {
    const verified = await verifySignedObject(token(c.vector.file), { profile: c.profile, stores, at });
    if (!verified.ok) throw new Error(`${verified.code}: ${verified.detail}`);
    expect(verified.signer).toBe(c.vector.signer);
    expect(verified.leaf.thumbprint).toBe(c.vector.kid);
    expect(verified.payload).toEqual(JSON.parse(read(c.vector.payload)));
    expect(validateAgainst(c.schema, verified.payload)).toEqual({ ok: true });
  });

  it('no vector verifies under the other administration alone', async () => {
    for (const c of cases) {
      const other = stores.filter((s) => s.adminId !== c.vector.signer);
      const verified = await verifySignedObject(token(c.vector.file), {
        profile: c.profile,
        stores: other,
        at,
      });
      expect(verified.ok ? 'ok' : verified.code).toBe('CERT_UNTRUSTED');
    }
  });

  it('the receipt acknowledges the record by its digest, and the request token obeys its rules', () => {
    const receipt = JSON.parse(read(expected.receipt.payload)) as {
      sender: string;
      receiver: string;
      results: { index: number; digest: string; outcome: string }[];
    };
    expect(receipt.sender).toBe(expected.record.signer);
    expect(receipt.receiver).toBe(expected.receipt.signer);
    expect(receipt.results).toMatchObject([
      { index: 0, digest: recordDigest(token('record.jws')), outcome: 'accepted' },
    ]);
    const claims = JSON.parse(read(expected.requestToken.payload)) as {
      iss: string;
      iat: number;
      exp: number;
    };
    expect(claims.iss).toBe(expected.requestToken.signer);
    expect(claims.exp - claims.iat).toBeLessThanOrEqual(300);
    expect(claims.iat * 1000).toBeLessThanOrEqual(at.getTime());
    expect(claims.exp * 1000).toBeGreaterThan(at.getTime());
  });

  it('the snapshot digest of the records is the documented one', () => {
    const records = read(expected.snapshot.records).trim().split('\n');
    expect(records).toHaveLength(expected.snapshot.count);
    const lines = records.map((jws) => {
      const payload = JSON.parse(Buffer.from(jws.split('.')[1] as string, 'base64url').toString('utf8')) as {
        issuer: string;
        version: number;
        operator: { aeoId: string };
      };
      return {
        issuer: payload.issuer,
        aeoId: payload.operator.aeoId,
        version: payload.version,
        recordDigest: recordDigest(jws),
      };
    });
    expect(snapshotDigest(lines)).toBe(expected.snapshot.digest);
  });

  it('the certificates stay valid until the stated end', () => {
    for (const id of ['pe', 'cl']) {
      for (const part of ['root', 'issuing-ca', 'signing']) {
        const [cert] = parsePemCertificates(read(`${id}-${part}.pem`));
        expect(cert?.notAfter.toISOString()).toBe(expected.certificatesValid.notAfter);
      }
    }
  });
});

const openssl = spawnSync('openssl', ['version'], { encoding: 'utf8' });
const haveOpenssl = openssl.status === 0;
if (!haveOpenssl) console.log('protocol vectors, independent check skipped: openssl not installed');

describe.skipIf(!haveOpenssl)('test vectors, checked with the openssl command line', () => {
  let work = '';
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'mra-vectors-'));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const run = (args: string[], input?: Buffer): Buffer => execFileSync('openssl', args, { input, cwd: work });
  const attime = String(Math.floor(at.getTime() / 1000));

  it.each(['pe', 'cl'])('the %s chain root → issuing CA → signing leaf verifies', (id) => {
    const out = run([
      'verify',
      '-attime',
      attime,
      '-CAfile',
      join(DIR, `${id}-root.pem`),
      '-untrusted',
      join(DIR, `${id}-issuing-ca.pem`),
      join(DIR, `${id}-signing.pem`),
    ]).toString('utf8');
    expect(out.trim()).toBe(`${join(DIR, `${id}-signing.pem`)}: OK`);
  });

  it.each(cases)('the ES256 signature of the $name verifies with the leaf key', (c) => {
    const [header, payload, signature] = token(c.vector.file).split('.') as [string, string, string];
    const leafFile = join(DIR, `${c.vector.signer.toLowerCase()}-signing.pem`);
    // The key comes from the signing leaf file, not from x5c: the test also shows x5c[0] is that leaf.
    const x5c = (JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { x5c: string[] }).x5c;
    const leafDer = run(['x509', '-in', leafFile, '-outform', 'DER']);
    expect(x5c[0]).toBe(leafDer.toString('base64'));
    expect(createHash('sha256').update(leafDer).digest('base64url')).toBe(c.vector.kid);

    writeFileSync(join(work, 'pub.pem'), run(['x509', '-in', leafFile, '-pubkey', '-noout']));
    writeFileSync(join(work, 'input'), `${header}.${payload}`);
    writeFileSync(join(work, 'sig.der'), rawToDer(Buffer.from(signature, 'base64url')));
    const out = run(['dgst', '-sha256', '-verify', 'pub.pem', '-signature', 'sig.der', 'input']).toString(
      'utf8',
    );
    expect(out.trim()).toBe('Verified OK');

    // One changed byte of the signing input fails the same check.
    writeFileSync(join(work, 'input'), `${header}.${payload}x`);
    const bad = spawnSync(
      'openssl',
      ['dgst', '-sha256', '-verify', 'pub.pem', '-signature', 'sig.der', 'input'],
      {
        cwd: work,
        encoding: 'utf8',
      },
    );
    expect(bad.status).not.toBe(0);
  });

  it('each record digest and the snapshot digest recompute from the documented lines', () => {
    const records = read(expected.snapshot.records).trim().split('\n');
    const lines = read(expected.snapshot.lines)
      .split('\n')
      .filter((l) => l !== '');
    expect(lines).toHaveLength(expected.snapshot.count);
    for (const jws of records) {
      const digest = run(['dgst', '-sha256', '-binary'], Buffer.from(jws, 'utf8')).toString('base64url');
      const payload = JSON.parse(Buffer.from(jws.split('.')[1] as string, 'base64url').toString('utf8')) as {
        issuer: string;
        version: number;
        operator: { aeoId: string };
      };
      expect(lines).toContain(`${payload.issuer}\t${payload.operator.aeoId}\t${payload.version}\t${digest}`);
    }
    const sorted = [...lines].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect(lines).toEqual(sorted);
    const out = run(['dgst', '-sha256', '-r', join(DIR, expected.snapshot.lines)]).toString('utf8');
    expect(out.split(' ')[0]).toBe(expected.snapshot.digest);
  });
});

/** RFC 7518 §3.4: ES256 is the raw r || s; openssl wants the DER ECDSA-Sig-Value. */
function rawToDer(raw: Buffer): Buffer {
  expect(raw).toHaveLength(64);
  const integer = (bytes: Buffer): Buffer => {
    let i = 0;
    while (i < bytes.length - 1 && bytes[i] === 0) i++;
    let v = bytes.subarray(i);
    if ((v[0] as number) & 0x80) v = Buffer.concat([Buffer.from([0]), v]);
    return Buffer.concat([Buffer.from([0x02, v.length]), v]);
  };
  const body = Buffer.concat([integer(raw.subarray(0, 32)), integer(raw.subarray(32))]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}
