import { generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';
import { buildCertificate } from '/work/main/src/crypto/cert-builder.ts';
const root = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const now = new Date();
const der = buildCertificate({ subjectPublicKey: root.publicKey, issuerPrivateKey: root.privateKey, subject: { commonName: 'Root' }, issuer: { commonName: 'Root' }, notBefore: now, notAfter: now, keyIdentifiers: false });
console.log(Buffer.from(der).toString('hex'));
console.log(forge.asn1.prettyPrint(forge.asn1.fromDer(Buffer.from(der).toString('binary'))));
import { X509Certificate } from 'node:crypto';
console.log(new X509Certificate(der).subject);
const der2 = buildCertificate({ subjectPublicKey: root.publicKey, issuerPrivateKey: root.privateKey, subject: { commonName: 'Root' }, issuer: { commonName: 'Root' }, notBefore: now, notAfter: now, keyUsage: ['keyCertSign'] });
console.log(Buffer.from(der2).toString('hex'));
try { console.log(new X509Certificate(der2).subject); } catch (e) { console.log(String(e)); }
