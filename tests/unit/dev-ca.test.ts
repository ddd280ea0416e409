import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { parsePemCertificates } from '../../src/crypto/certificate.ts';
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
    ca: parsePemCertificates(text(paths.caCert)),
    signing: parsePemCertificates(text(paths.signingCert)),
    tls: parsePemCertificates(text(paths.tlsCert)),
    signingKey: createPrivateKey(text(paths.signingKey)),
    tlsKey: createPrivateKey(text(paths.tlsKey)),
  };
}

describe('createDevAdministration', () => {
  it('writes a root, a signing leaf issued by it that passes the chain rules, and a TLS certificate', () => {
    const dir = freshDir();
    const paths = createDevAdministration('PE', dir, { now });
    expect(Object.values(paths).map((p) => p.slice(dir.length + 1))).toEqual([
      'ca.pem',
      'ca.key',
      'signing.pem',
      'signing.key',
      'tls.pem',
      'tls.key',
    ]);
    const { ca, signing, tls, signingKey } = load(paths);
    expect(ca).toHaveLength(1);
    expect(signing).toHaveLength(1);
    expect(ca[0]!.x509.subject).toContain('CN=PE MRA development root CA');
    expect(ca[0]!.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const trust = { adminId: 'PE', anchors: ca, revokedFingerprints: new Set<string>() };
    const result = validateChain([signing[0]!.der], trust, now);
    expect(result.ok ? 'ok' : result.detail).toBe('ok');
    expect(leafKeyMatchesAlg(signing[0]!, 'ES256')).toBe(true);
    expect(createPublicKey(signingKey).export({ format: 'jwk' })).toEqual(
      signing[0]!.publicKey.export({ format: 'jwk' }),
    );
    expect(tls[0]!.x509.verify(ca[0]!.publicKey)).toBe(true);
  });

  it('gives the root ten years and the leaves two', () => {
    const { ca, signing, tls } = load(createDevAdministration('CL', freshDir(), { now }));
    const years = (c: (typeof ca)[number]) => (c.notAfter.getTime() - c.notBefore.getTime()) / YEAR;
    expect(years(ca[0]!)).toBeCloseTo(10, 1);
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
    for (const key of [paths.caKey, paths.signingKey, paths.tlsKey]) {
      expect(statSync(key).mode & 0o777).toBe(0o600);
      expect(readFileSync(key, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    }
  });

  it('refuses to overwrite, writing nothing; with force it replaces, keys back to 0600', () => {
    const dir = freshDir();
    const paths = createDevAdministration('PE', dir, { now });
    const before = readFileSync(paths.caCert, 'utf8');
    expect(() => createDevAdministration('PE', dir, { now })).toThrow(GatewayError);
    expect(() => createDevAdministration('PE', dir, { now })).toThrow(/refusing to overwrite/);
    expect(readFileSync(paths.caCert, 'utf8')).toBe(before);
    chmodSync(paths.signingKey, 0o644);
    createDevAdministration('PE', dir, { now, force: true });
    expect(readFileSync(paths.caCert, 'utf8')).not.toBe(before);
    expect(statSync(paths.signingKey).mode & 0o777).toBe(0o600);
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
        ca: readFileSync(paths.caCert),
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
