/**
 * docs/threats.md 70 over real HTTP and the real configuration loader: EU revokes certificates of partner PE by
 * identity (a revoked certificate PEM, a DER CRL of PE's issuing CA, a PEM CRL of PE's root), and each revoked
 * certificate, re-encoded with the (r, n − s) twin of its signature so that its bytes and fingerprint differ,
 * is still refused in a record, a receipt and a request token. A CRL past its nextUpdate refuses every chain of
 * the partner; a CRL that does not verify stops the start with the field named.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadConfig } from '../../src/config/load.ts';
import type { RawConfig } from '../../src/config/raw.ts';
import type { Signer } from '../../src/config/types.ts';
import { toPem } from '../../src/crypto/cert-builder.ts';
import { parseCertificate } from '../../src/crypto/certificate.ts';
import { buildCrl } from '../../src/crypto/crl-builder.ts';
import { recordDigest } from '../../src/crypto/digest.ts';
import { GatewayError } from '../../src/errors.ts';
import { signReceipt } from '../../src/inbound/receipt.ts';
import { checkReceipt } from '../../src/partner-client/receipt-check.ts';
import type { Receipt } from '../../src/protocol/receipt.ts';
import { signRecord } from '../../src/publishing/sign-record.ts';
import { makeAdmins, type TestAdmins } from '../support/admins.ts';
import { getPartnerRoute, requestToken } from '../support/exchange.ts';
import {
  expectProblem,
  expectRejected,
  outcomes,
  startTestGateway,
  type TestGateway,
} from '../support/gateway.ts';
import { makePki, type TestPki } from '../support/pki.ts';
import { freshRecord } from '../support/records.ts';
import { withHighSTwin } from '../support/reencode.ts';

const DAY = 24 * 3600 * 1000;
const fromNow = (days: number) => new Date(Date.now() + days * DAY);

let dir: string;
const issuingPki = makePki({ intermediate: {} });
const root = parseCertificate(issuingPki.rootDer);
const issuing = parseCertificate(issuingPki.intermediateDer!);
/** Revoked by listing the certificate itself. */
const listed = makePki({ intermediate: {}, leaf: { keyRole: 'rev-listed' } });
/** Revoked by the issuing CA's CRL (DER). */
const byIssuingCrl = makePki({ intermediate: {}, leaf: { keyRole: 'rev-crl', serial: '0b0b0b0b0b' } });
/** Its issuing CA revoked by the root's CRL (PEM). */
const byRootCrl = makePki({
  intermediate: { keyRole: 'rev-intermediate', serial: '0c0ffee0' },
  leaf: { keyRole: 'under-revoked' },
});
const good = makePki({ intermediate: {}, leaf: { keyRole: 'not-revoked' } });

function crl(by: 'root' | 'issuing', serials: string[], nextUpdate = fromNow(6)): Uint8Array {
  return buildCrl({
    issuerName: by === 'root' ? root.subjectDer : issuing.subjectDer,
    issuerPrivateKey: by === 'root' ? issuingPki.rootKey : issuingPki.intermediateKey!,
    thisUpdate: new Date(nextUpdate.getTime() - 7 * DAY),
    nextUpdate,
    revoked: serials.map((serial) => ({ serial })),
  });
}

/** A signer whose x5c is `pki`'s chain with the leaf (or the issuing CA) re-encoded. */
function twinSigner(pki: TestPki, which: 'leaf' | 'intermediate'): Signer {
  const chainDer =
    which === 'leaf'
      ? [withHighSTwin(pki.leafDer), pki.intermediateDer!]
      : [pki.leafDer, withHighSTwin(pki.intermediateDer!)];
  const chain = chainDer.map((d) => parseCertificate(d));
  return {
    alg: 'ES256',
    key: pki.leafKey,
    chain,
    x5c: chainDer.map((d) => Buffer.from(d).toString('base64')),
    kid: chain[0]!.thumbprint,
  };
}

const write = (name: string, content: string | Uint8Array) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

/** EU's administrations, trusting the test PKI as PE's, with PE's revocation edited by `revocation`. */
function adminsWith(revocation: (raw: RawConfig['partners'][number]) => void): TestAdmins {
  return makeAdmins(['EU', 'PE'], {
    edit: (id, raw) => {
      if (id !== 'EU') return;
      const pe = raw.partners.find((p) => p.adminId === 'PE')!;
      pe.trustAnchors = [...pe.trustAnchors, join(dir, 'root.pem')];
      pe.intermediates = [...(pe.intermediates ?? []), join(dir, 'issuing.pem')];
      revocation(pe);
    },
  });
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mra-revocation-'));
  write('root.pem', toPem(issuingPki.rootDer));
  write('issuing.pem', toPem(issuingPki.intermediateDer!));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('70: revoked by identity, re-encoded', () => {
  let admins: TestAdmins;
  let gw: TestGateway;
  beforeAll(async () => {
    const certs = write('revoked.pem', toPem(listed.leafDer));
    const issuingCrl = write('issuing.crl', crl('issuing', ['0b0b0b0b0b']));
    const rootCrl = write('root.crl', toPem(crl('root', ['0c0ffee0']), 'X509 CRL'));
    admins = adminsWith((pe) => {
      pe.revocation = { certificates: [certs], crls: [issuingCrl, rootCrl] };
    });
    gw = await startTestGateway(admins.get('EU').config, 'embedded');
  });
  afterAll(async () => {
    await gw?.close();
    admins?.cleanup();
  });

  const signers = () => ({
    listedLeaf: twinSigner(listed, 'leaf'),
    crlLeaf: twinSigner(byIssuingCrl, 'leaf'),
    crlIntermediate: twinSigner(byRootCrl, 'intermediate'),
  });
  const revokedDetail = /revoked by PE: its issuer and serial number/;

  it('a good chain and its re-encoded twin are accepted: the baseline', async () => {
    const tokens = await Promise.all([
      signRecord(freshRecord('PE'), twinSigner(good, 'leaf')),
      signRecord(freshRecord('PE'), twinSigner(good, 'intermediate')),
    ]);
    expect(outcomes((await gw.send(tokens)).results)).toEqual(['accepted', 'accepted']);
  });

  it('records → CERT_UNTRUSTED', async () => {
    const record = freshRecord('PE');
    const s = signers();
    const variants = {
      listedLeaf: await signRecord(record, s.listedLeaf),
      crlLeaf: await signRecord(record, s.crlLeaf),
      crlIntermediate: await signRecord(record, s.crlIntermediate),
    };
    await expectRejected(gw, variants, 'CERT_UNTRUSTED', [record], {
      listedLeaf: /^x5c\[0\] is revoked by PE/,
      crlLeaf: /^x5c\[0\] is revoked by PE: its issuer and serial number b0b0b0b0b/,
      crlIntermediate: /^x5c\[1\] is revoked by PE: its issuer and serial number c0ffee0/,
    });
  });

  it('request tokens → 401 naming the revocation', async () => {
    for (const signer of Object.values(signers())) {
      const res = await getPartnerRoute(gw, '/feed', `MRA ${await requestToken(signer, 'PE', 'EU')}`);
      const problem = expectProblem(res, 401, 'UNAUTHORIZED');
      expect(String(problem.detail)).toMatch(revokedDetail);
    }
    const ok = await getPartnerRoute(
      gw,
      '/feed',
      `MRA ${await requestToken(twinSigner(good, 'leaf'), 'PE', 'EU')}`,
    );
    expect(ok.status, ok.text).toBe(200);
  });

  it('receipts → not proof of delivery', async () => {
    const pe = gw.gateway.config.partners.find((p) => p.adminId === 'PE')!;
    const record = freshRecord('EU');
    const sent = [await signRecord(record, admins.get('EU').config.home.signers[0]!)];
    const receipt: Receipt = {
      schema: 'aeo-receipt/1',
      receiptId: randomUUID(),
      sender: 'EU',
      receiver: 'PE',
      receivedAt: new Date().toISOString(),
      results: [{ index: 0, recordId: record.recordId, digest: recordDigest(sent[0]!), outcome: 'accepted' }],
    };
    const check = async (signer: Signer) =>
      checkReceipt(await signReceipt(receipt, signer), sent, { home: 'EU', partner: pe, at: new Date() });
    expect((await check(twinSigner(good, 'leaf'))).ok).toBe(true);
    for (const signer of Object.values(signers())) {
      const checked = await check(signer);
      expect(checked.ok || checked.code).toBe('CERT_UNTRUSTED');
      expect(checked.ok || checked.detail).toMatch(revokedDetail);
    }
  });
});

describe('CRL lapse and load errors', () => {
  it('past nextUpdate every chain of PE is refused, with a detail saying the list lapsed', async () => {
    const lapsed = write('lapsed.crl', crl('issuing', [], fromNow(-1)));
    const admins = adminsWith((pe) => {
      pe.revocation = { crls: [lapsed] };
    });
    const gw = await startTestGateway(admins.get('EU').config, 'embedded');
    try {
      const record = freshRecord('PE');
      await expectRejected(
        gw,
        { good: await signRecord(record, twinSigner(good, 'leaf')) },
        'CERT_UNTRUSTED',
        [record],
        {
          good: /^the revocation list of PE issued by .*lapsed at/,
        },
      );
    } finally {
      await gw.close();
      admins.cleanup();
    }
  });

  it('a CRL signed by another key, or by no configured CA, stops the start naming the field', () => {
    const stranger = makePki({ root: { keyRole: 'crl-stranger', name: { commonName: 'XX root' } } });
    const forged = write(
      'forged.crl',
      buildCrl({
        issuerName: issuing.subjectDer,
        issuerPrivateKey: stranger.rootKey,
        thisUpdate: fromNow(-1),
        nextUpdate: fromNow(6),
      }),
    );
    const admins = adminsWith(() => {});
    try {
      const path = admins.get('EU').configPath;
      const raw = parse(readText(path)) as RawConfig;
      const pe = raw.partners.find((p) => p.adminId === 'PE')!;
      const index = raw.partners.indexOf(pe);
      pe.revocation = { crls: [forged] };
      writeFileSync(path, stringify(raw));
      const error = catchError(() => loadConfig(path, { env: { LOG_LEVEL: 'silent' } }));
      expect(error.code).toBe('CONFIG_INVALID');
      expect(error.message).toMatch(
        new RegExp(
          `/partners/${index}/revocation/crls/0: .*forged.crl is refused: its signature does not verify`,
        ),
      );
    } finally {
      admins.cleanup();
    }
  });
});

function readText(path: string): string {
  return readFileSync(path, 'utf8');
}

function catchError(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayError);
    return error as GatewayError;
  }
  throw new Error('expected an error');
}
