import { X509Certificate, generateKeyPairSync } from 'node:crypto';
const hex = process.argv[2]!;
for (const input of [Buffer.from(hex,'hex'), new Uint8Array(Buffer.from(hex,'hex'))]) {
try { console.log(new X509Certificate(input).subject); } catch (e) { console.log(String(e)); }
}
