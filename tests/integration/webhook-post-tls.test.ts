/**
 * docs/threats.md 75 at delivery time, over real sockets on loopback: TLS is verified against the URL's host,
 * at the address checked for it.
 */
import { generateKeyPairSync } from 'node:crypto';
import type { Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildCertificate, toPem } from '../../src/crypto/cert-builder.ts';
import {
  closeServers,
  counting,
  LOOPBACK,
  noContent,
  poster,
  resolverOf,
  send,
} from '../support/webhook-servers.ts';

afterEach(closeServers);

describe('TLS', () => {
  let ca: string;
  let serverFor: (names: string[]) => { key: string; cert: string };

  beforeAll(() => {
    const caKeys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const caName = { commonName: 'Webhook test CA' };
    const now = Date.now();
    ca = toPem(
      buildCertificate({
        subjectPublicKey: caKeys.publicKey,
        issuerPrivateKey: caKeys.privateKey,
        subject: caName,
        issuer: caName,
        notBefore: new Date(now - 86_400_000),
        notAfter: new Date(now + 86_400_000),
        basicConstraints: { ca: true },
        keyUsage: ['keyCertSign', 'cRLSign'],
      }),
    );
    serverFor = (names) => {
      const keys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      const cert = buildCertificate({
        subjectPublicKey: keys.publicKey,
        issuerPrivateKey: caKeys.privateKey,
        subject: { commonName: names[0]! },
        issuer: caName,
        notBefore: new Date(now - 86_400_000),
        notAfter: new Date(now + 86_400_000),
        basicConstraints: { ca: false },
        keyUsage: ['digitalSignature'],
        extKeyUsage: ['serverAuth'],
        subjectAltName: { dns: names },
      });
      return { key: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), cert: toPem(cert) };
    };
  });

  const https = (names: string[]) =>
    counting(noContent, '127.0.0.1', (h) => createHttpsServer(serverFor(names), h) as unknown as Server);

  it('is verified against the URL host, at the address checked for it', async () => {
    const receiver = await https(['hooks.example']);
    const resolve = resolverOf({ 'hooks.example': ['127.0.0.1'] });
    const p = poster({ allowNetworks: LOOPBACK.allowNetworks }, resolve, { ca });
    expect(await send(p, `https://hooks.example:${receiver.port}/h`)).toEqual({ ok: true });
    expect(receiver.requests).toHaveLength(1);
  });

  it('fails as tls for another name, an unknown CA, or plain http behind https', async () => {
    const other = await https(['other.example']);
    const resolve = resolverOf({ 'hooks.example': ['127.0.0.1'] });
    const withCa = poster({ allowNetworks: LOOPBACK.allowNetworks }, resolve, { ca });
    const withoutCa = poster({ allowNetworks: LOOPBACK.allowNetworks }, resolve);
    expect(await send(withCa, `https://hooks.example:${other.port}/h`)).toMatchObject({
      ok: false,
      failure: 'tls',
    });
    const right = await https(['hooks.example']);
    expect(await send(withoutCa, `https://hooks.example:${right.port}/h`)).toMatchObject({
      ok: false,
      failure: 'tls',
    });
    const plain = await counting(noContent);
    expect(await send(withCa, `https://hooks.example:${plain.port}/h`)).toMatchObject({
      ok: false,
      failure: 'tls',
    });
    expect(other.requests).toHaveLength(0);
    expect(right.requests).toHaveLength(0);
  });
});
