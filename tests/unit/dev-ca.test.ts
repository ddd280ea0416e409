import { spawnSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { certificateExtras, parsePemCertificates } from '../../src/crypto/certificate.ts';
import { leafKeyMatchesAlg, validateChain } from '../../src/crypto/chain.ts';
import { createDevAdministration } from '../../src/crypto/dev-ca.ts';
import { GatewayError } from '../../src/errors.ts';

const root = mkdtempSync(join(tmpdir(), 'mra-dev-ca-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(root, `admin-${n++}`);
const now = new Date('2026-06-01T00:00:00Z');
const YEAR = 365 * 86_400_000;

function load(paths: ReturnType<typeof createDevAdministration>) {
  const text = (p: string) => readFileSync(p, 'utf8');
  return {
    root: parsePemCertificates(text(paths.rootCert)),
    issuing: parsePemCertificates(text(paths.issuingCert)),
    signing: parsePemCertificates(text(paths.signingCert)),
    tls: parsePemCertificates(text(paths.tlsCert)),
    signingKey: createPrivateKey(text(paths.signingKey)),
    tlsKey: createPrivateKey(text(paths.tlsKey)),
  };
}

const toPemChain = (certs: readonly { x509: X509Certificate }[]) =>
  certs.map((c) => c.x509.toString()).join('');

const OID_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const OID_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

describe('createDevAdministration', () => {
  it('writes root → issuing CA → signing and TLS leaves, chains leaf first, passing the chain rules', () => {
    const dir = freshDir();
    const paths = createDevAdministration('PE', dir, { now });
    expect(Object.values(paths).map((p) => p.slice(dir.length + 1))).toEqual([
      'root.pem',
      'root.key',
      'issuing-ca.pem',
      'issuing-ca.key',
      'signing.pem',
      'signing.key',
      'tls.pem',
      'tls.key',
    ]);
    const { root, issuing, signing, tls, signingKey } = load(paths);
    expect([root.length, issuing.length, signing.length, tls.length]).toEqual([1, 1, 2, 2]);
    const [anchor, ca] = [root[0]!, issuing[0]!];
    // The files of the chains end with the same issuing CA as issuing-ca.pem.
    expect(signing[1]!.fingerprint).toBe(ca.fingerprint);
    expect(tls[1]!.fingerprint).toBe(ca.fingerprint);

    expect(anchor.x509.subject).toContain('CN=PE MRA development root CA');
    expect(anchor.x509.checkIssued(anchor.x509) && anchor.x509.verify(anchor.publicKey)).toBe(true);
    expect(anchor.basicConstraintsCa).toBe(true);
    expect([...(anchor.keyUsage ?? [])].sort()).toEqual(['cRLSign', 'keyCertSign']);
    expect(anchor.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');

    expect(ca.x509.subject).toContain('CN=PE MRA development issuing CA');
    expect(ca.x509.checkIssued(anchor.x509) && ca.x509.verify(anchor.publicKey)).toBe(true);
    expect(ca.basicConstraintsCa).toBe(true);
    expect(certificateExtras(ca).pathLen).toBe(0);
    expect([...(ca.keyUsage ?? [])].sort()).toEqual(['cRLSign', 'keyCertSign']);

    for (const leaf of [signing[0]!, tls[0]!]) {
      expect(leaf.x509.checkIssued(ca.x509) && leaf.x509.verify(ca.publicKey)).toBe(true);
      expect(leaf.x509.verify(anchor.publicKey)).toBe(false);
      expect(leaf.basicConstraintsCa).toBe(false);
      expect(leaf.x509.ca).toBe(false);
    }
    expect([...(signing[0]!.keyUsage ?? [])]).toEqual(['digitalSignature']);
    // No extKeyUsage at all on the signing leaf: nothing limits it to TLS.
    expect(signing[0]!.x509.keyUsage).toBeUndefined();
    expect(tls[0]!.x509.keyUsage).toEqual([OID_SERVER_AUTH, OID_CLIENT_AUTH]);

    const trust = { adminId: 'PE', anchors: root, revokedFingerprints: new Set<string>() };
    const result = validateChain(
      signing.map((c) => c.der),
      trust,
      now,
    );
    expect(result.ok ? 'ok' : result.detail).toBe('ok');
    // The leaf alone no longer reaches the anchor: the issuing CA is needed.
    expect(validateChain([signing[0]!.der], trust, now).ok).toBe(false);
    expect(leafKeyMatchesAlg(signing[0]!, 'ES256')).toBe(true);
    expect(createPublicKey(signingKey).export({ format: 'jwk' })).toEqual(
      signing[0]!.publicKey.export({ format: 'jwk' }),
    );
  });

  it('gives the root ten years, the issuing CA five and the leaves two', () => {
    const { root, issuing, signing, tls } = load(createDevAdministration('CL', freshDir(), { now }));
    const years = (c: (typeof root)[number]) => (c.notAfter.getTime() - c.notBefore.getTime()) / YEAR;
    expect(years(root[0]!)).toBeCloseTo(10, 1);
    expect(years(issuing[0]!)).toBeCloseTo(5, 1);
    expect(years(signing[0]!)).toBeCloseTo(2, 1);
    expect(years(tls[0]!)).toBeCloseTo(2, 1);
    expect(signing[0]!.notBefore.getTime()).toBeLessThanOrEqual(now.getTime());
  });

  it.each([
    ['EdDSA', 'ed25519'],
    ['PS256', 'rsa'],
  ] as const)('makes a %s signing key on request', (signingAlg, type) => {
    const { signing } = load(createDevAdministration('EU', freshDir(), { now, signingAlg }));
    expect(signing[0]!.publicKey.asymmetricKeyType).toBe(type);
    expect(leafKeyMatchesAlg(signing[0]!, signingAlg)).toBe(true);
    expect(leafKeyMatchesAlg(signing[0]!, 'ES256')).toBe(false);
  });

  it('writes private keys readable by the owner only', () => {
    const paths = createDevAdministration('PE', freshDir(), { now });
    for (const key of [paths.rootKey, paths.issuingKey, paths.signingKey, paths.tlsKey]) {
      expect(statSync(key).mode & 0o777).toBe(0o600);
      expect(readFileSync(key, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    }
  });

  it('refuses to overwrite, writing nothing; with force it replaces, keys back to 0600', () => {
    const dir = freshDir();
    const paths = createDevAdministration('PE', dir, { now });
    const before = readFileSync(paths.rootCert, 'utf8');
    expect(() => createDevAdministration('PE', dir, { now })).toThrow(GatewayError);
    expect(() => createDevAdministration('PE', dir, { now })).toThrow(/refusing to overwrite/);
    expect(readFileSync(paths.rootCert, 'utf8')).toBe(before);
    chmodSync(paths.signingKey, 0o644);
    createDevAdministration('PE', dir, { now, force: true });
    expect(readFileSync(paths.rootCert, 'utf8')).not.toBe(before);
    expect(statSync(paths.signingKey).mode & 0o777).toBe(0o600);
  });

  it('puts the hosts asked for into the TLS leaf: DNS names and IP addresses, the first as common name', () => {
    const hosts = ['PE.Customs.example', '10.1.2.3', 'gw.pe.customs.example', '2001:db8::7', '10.1.2.3'];
    const { tls } = load(createDevAdministration('PE', freshDir(), { now, hosts }));
    const x509 = tls[0]!.x509;
    expect(x509.subject).toContain('CN=pe.customs.example');
    expect(x509.subjectAltName).toBe(
      'DNS:pe.customs.example, DNS:gw.pe.customs.example, IP Address:10.1.2.3, IP Address:2001:DB8:0:0:0:0:0:7',
    );
    expect(x509.checkHost('gw.pe.customs.example')).toBe('gw.pe.customs.example');
    expect(x509.checkIP('2001:db8::7')).toBe('2001:db8::7');
    expect(x509.checkHost('localhost')).toBeUndefined();
  });

  it.each([
    ['an empty list', []],
    ['a URL', ['https://pe.customs.example']],
    ['a name with a space', ['pe customs']],
    ['a label over 63 characters', [`${'a'.repeat(64)}.example`]],
    ['an IPv6 address with an IPv4 tail', ['::ffff:10.1.2.3']],
  ])('refuses %s as TLS hosts, writing nothing', (_what, hosts) => {
    const dir = freshDir();
    expect(() => createDevAdministration('PE', dir, { now, hosts })).toThrow(GatewayError);
    expect(existsSync(dir)).toBe(false);
  });

  it('is what `certs` runs: --host repeatable, file names printed, no overwrite without --force', () => {
    const out = freshDir();
    const certs = (...extra: string[]) =>
      spawnSync(process.execPath, ['src/cli/main.ts', 'certs', '--admin', 'PE', '--out', out, ...extra], {
        encoding: 'utf8',
        timeout: 60_000,
      });
    const made = certs('--host', 'pe.customs.example', '--host', '127.0.0.1');
    expect(made.stderr).toBe('');
    expect(made.status).toBe(0);
    for (const file of ['root.pem', 'issuing-ca.pem', 'signing.pem', 'signing.key', 'tls.pem', 'tls.key']) {
      expect(made.stdout).toContain(join(out, file));
    }
    const tls = parsePemCertificates(readFileSync(join(out, 'tls.pem'), 'utf8'));
    expect(tls[0]!.x509.subjectAltName).toBe('DNS:pe.customs.example, IP Address:127.0.0.1');
    const again = certs();
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/refusing to overwrite .*\(use --force\)/);
    expect(readFileSync(join(out, 'tls.pem'), 'utf8')).toBe(toPemChain(tls));
    expect(certs('--force').status).toBe(0);
    expect(readFileSync(join(out, 'tls.pem'), 'utf8')).not.toBe(toPemChain(tls));
  });

  it('refuses an adminId that is not two capital letters', () => {
    expect(() => createDevAdministration('pe', freshDir())).toThrow(/not two capitals/);
    expect(() => createDevAdministration('../PE', freshDir())).toThrow(GatewayError);
  });

  it.each(['ec', 'rsa'] as const)(
    'makes a %s TLS certificate that works for mutual TLS on loopback',
    async (tlsKeyType) => {
      const paths = createDevAdministration('PE', freshDir(), { tlsKeyType });
      const { tls } = load(paths);
      const x509 = new X509Certificate(tls[0]!.der);
      expect(x509.checkHost('localhost')).toBe('localhost');
      expect(x509.checkIP('127.0.0.1')).toBe('127.0.0.1');
      expect(x509.checkIP('::1')).toBe('::1');
      expect(x509.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
      expect(tls[0]!.publicKey.asymmetricKeyType).toBe(tlsKeyType);

      const material = {
        cert: readFileSync(paths.tlsCert),
        key: readFileSync(paths.tlsKey),
        ca: readFileSync(paths.rootCert),
      };
      const server = createServer({ ...material, requestCert: true, rejectUnauthorized: true }, (socket) => {
        socket.end(socket.authorized ? 'client ok' : 'client refused');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as { port: number }).port;
      try {
        const reply = await new Promise<string>((resolve, reject) => {
          const socket = connect({ ...material, host: '127.0.0.1', port, servername: 'localhost' }, () => {
            let data = '';
            socket.on('data', (chunk) => {
              data += chunk;
            });
            socket.on('end', () => resolve(data));
          });
          socket.on('error', reject);
          socket.setTimeout(5000, () => socket.destroy(new Error('TLS handshake timed out')));
        });
        expect(reply).toBe('client ok');
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    },
  );
});
