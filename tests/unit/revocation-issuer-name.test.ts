/**
 * docs/threats.md 31 and 70, by the issuer's name: a certificate's issuer field may spell its CA's name otherwise
 * than the CA's own subject (another case, other spaces, PrintableString for UTF8String), and chain validation,
 * which compares names as RFC 5280 §7.1 does, still links them. Revocation must link them the same way: a CRL
 * of the CA (whose issuer is the CA's subject, byte for byte) revokes such a certificate by its serial.
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveRevocation } from '../../src/config/revocation.ts';
import { parseCertificate } from '../../src/crypto/certificate.ts';
import { validateChain } from '../../src/crypto/chain.ts';
import { buildCrl } from '../../src/crypto/crl-builder.ts';
import { nameKey } from '../../src/crypto/name-key.ts';
import type { TrustStore } from '../../src/crypto/types.ts';
import {
  days,
  LEAF_DEFAULTS,
  makeCert,
  makePki,
  NOW,
  ROOT_DEFAULTS,
  ROOT_NAME,
  trustStoreOf,
} from '../support/pki.ts';

const dir = mkdtempSync(join(tmpdir(), 'mra-crl-name-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const pki = makePki();
const root = parseCertificate(pki.rootDer);

/** A leaf whose issuer field names the root as `issuerName`, signed by the root's key. */
function leafNaming(issuerName: typeof ROOT_NAME, serial: string): Uint8Array {
  return makeCert({ serial, keyRole: `leaf-${serial}` }, LEAF_DEFAULTS, {
    name: issuerName,
    privateKey: pki.rootKey,
  }).der;
}

function storeRevoking(serials: string[]): TrustStore {
  const path = join(dir, `crl-${serials.join('-')}.der`);
  writeFileSync(
    path,
    buildCrl({
      issuerName: root.subjectDer,
      issuerPrivateKey: pki.rootKey,
      thisUpdate: days(-1),
      nextUpdate: days(6),
      revoked: serials.map((serial) => ({ serial })),
    }),
  );
  const { revokedFingerprints, revocation } = resolveRevocation(
    { crls: [path] },
    undefined,
    '/partners/0',
    (p) => p,
    [root],
  );
  return { ...trustStoreOf(pki.anchors), revokedFingerprints, revocation };
}

describe('a certificate whose issuer field spells its CA name otherwise', () => {
  const variants: [string, typeof ROOT_NAME][] = [
    ['in other letter case', { ...ROOT_NAME, commonName: ROOT_NAME.commonName.toUpperCase() }],
    ['with other spaces', { ...ROOT_NAME, commonName: `  ${ROOT_NAME.commonName.replaceAll(' ', '   ')} ` }],
  ];
  for (const [what, name] of variants) {
    it(`${what} chains to the CA, and its CA's CRL revokes it`, () => {
      const der = leafNaming(name, '7a11');
      // Chain validation links it to the root as OpenSSL does: the variant is a real certificate of that CA.
      expect(validateChain([der], trustStoreOf(pki.anchors), NOW)).toMatchObject({ ok: true });
      const result = validateChain([der], storeRevoking(['7a11']), NOW);
      expect(result).toMatchObject({ ok: false, code: 'CERT_UNTRUSTED' });
      if (!result.ok) expect(result.detail).toMatch(/revoked/);
    });
  }

  it('with another serial is not revoked by it', () => {
    const der = leafNaming({ ...ROOT_NAME, commonName: ROOT_NAME.commonName.toUpperCase() }, '7a12');
    expect(validateChain([der], storeRevoking(['7a11']), NOW)).toMatchObject({ ok: true });
  });
});

/** Name DER with one RDN per [oid bytes, string tag, value bytes]. */
function nameDer(...atvs: [number[], number, Uint8Array][]): Uint8Array {
  const tlv = (tag: number, body: Uint8Array) => new Uint8Array([tag, body.length, ...body]);
  const rdns = atvs.map(([oid, tag, value]) =>
    tlv(0x31, tlv(0x30, new Uint8Array([...tlv(0x06, new Uint8Array(oid)), ...tlv(tag, value)]))),
  );
  return tlv(0x30, new Uint8Array(rdns.flatMap((r) => [...r])));
}
const CN = [0x55, 0x04, 0x03];
const O = [0x55, 0x04, 0x0a];
const ascii = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
const bmp = (s: string) => new Uint8Array(Buffer.from(s, 'utf16le').swap16());

describe("a CRL whose issuer spells its CA's name otherwise", () => {
  it("is taken as that CA's, and revokes what it lists", () => {
    const upper = { ...ROOT_NAME, commonName: ROOT_NAME.commonName.toUpperCase() };
    const spelled = parseCertificate(makeCert({ name: upper }, ROOT_DEFAULTS, undefined).der).subjectDer;
    const path = join(dir, 'crl-spelled.der');
    writeFileSync(
      path,
      buildCrl({
        issuerName: spelled,
        issuerPrivateKey: pki.rootKey,
        thisUpdate: days(-1),
        nextUpdate: days(6),
        revoked: [{ serial: '7a13' }],
      }),
    );
    const { revokedFingerprints, revocation } = resolveRevocation(
      { crls: [path] },
      undefined,
      '/partners/0',
      (p) => p,
      [root],
    );
    const store = { ...trustStoreOf(pki.anchors), revokedFingerprints, revocation };
    expect(validateChain([leafNaming(ROOT_NAME, '7a13')], store, NOW)).toMatchObject({
      ok: false,
      code: 'CERT_UNTRUSTED',
    });
  });
});

describe('nameKey', () => {
  it('is one key for the string types and spellings RFC 5280 §7.1 compares as equal', () => {
    const utf8 = nameKey(nameDer([CN, 0x0c, ascii('PE Root')]));
    expect(nameKey(nameDer([CN, 0x13, ascii('PE Root')]))).toBe(utf8);
    expect(nameKey(nameDer([CN, 0x1e, bmp('PE Root')]))).toBe(utf8);
    expect(nameKey(nameDer([CN, 0x16, ascii(' pe   ROOT ')]))).toBe(utf8);
  });

  it('tells other names apart', () => {
    const key = nameKey(nameDer([CN, 0x0c, ascii('PE Root')]));
    expect(nameKey(nameDer([O, 0x0c, ascii('PE Root')]))).not.toBe(key);
    expect(nameKey(nameDer([CN, 0x0c, ascii('PE Root 2')]))).not.toBe(key);
    expect(nameKey(nameDer([CN, 0x0c, ascii('PE')], [CN, 0x0c, ascii('Root')]))).not.toBe(key);
    expect(nameKey(nameDer([CN, 0x0c, ascii('a,b')]))).not.toBe(
      nameKey(nameDer([CN, 0x0c, ascii('a')], [CN, 0x0c, ascii('b')])),
    );
  });

  it('keys a Name it cannot read by its bytes', () => {
    expect(nameKey(new Uint8Array([0x30, 0x03, 0x31, 0x01, 0x05]))).toBe('der:3003310105');
  });
});
