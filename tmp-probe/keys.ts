import { generateKeyPairSync, X509Certificate, createPublicKey } from 'node:crypto';
import { buildCertificate } from '../src/crypto/cert-builder.ts';
import { parseCertificate } from '../src/crypto/certificate.ts';
const root = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const n = new Date(); const l = new Date(Date.now()+1e9);
const mk = (pub: any) => buildCertificate({ subjectPublicKey: pub, issuerPrivateKey: root.privateKey, subject: { commonName: 'x' }, issuer: { commonName: 'r' }, notBefore: n, notAfter: l });
for (const [name, kp] of [
  ['p384', () => generateKeyPairSync('ec', { namedCurve: 'secp384r1' })],
  ['p521', () => generateKeyPairSync('ec', { namedCurve: 'secp521r1' })],
  ['k1', () => generateKeyPairSync('ec', { namedCurve: 'secp256k1' })],
  ['ed448', () => generateKeyPairSync('ed448')],
  ['x25519', () => generateKeyPairSync('x25519')],
  ['rsa1024', () => generateKeyPairSync('rsa', { modulusLength: 1024 })],
  ['rsa-e3', () => generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 3 })],
  ['rsapss', () => generateKeyPairSync('rsa-pss', { modulusLength: 2048, hashAlgorithm: 'sha256', mgf1HashAlgorithm: 'sha256', saltLength: 32 })],
  ['rsapss-plain', () => generateKeyPairSync('rsa-pss', { modulusLength: 2048 })],
] as const) {
  const t = Date.now();
  const k = (kp as any)();
  const c = parseCertificate(mk(k.publicKey));
  console.log(name, Date.now()-t, 'ms', c.publicKey.asymmetricKeyType, c.publicKey.asymmetricKeyDetails);
}
// RSA e=1: take rsa1024 SPKI & modify exponent
import forge from 'node-forge';
const r = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = r.publicKey.export({ format: 'jwk' });
try { const k1 = createPublicKey({ key: { ...jwk, e: 'AQ' }, format: 'jwk' }); console.log('e=1 import ok', k1.asymmetricKeyDetails);
  const der = k1.export({ type: 'spki', format: 'der' });
  const c = parseCertificate(mk(new Uint8Array(der))); console.log('e1 cert', c.publicKey.asymmetricKeyDetails);
} catch (e) { console.log('e=1', String(e)); }
