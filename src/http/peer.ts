/**
 * Who is on the other end of a mutual-TLS connection. OpenSSL has already refused a handshake without a
 * certificate chaining to some partner's anchor; this maps the certificate to the one partner whose anchors it
 * chains to, by the gateway's own chain rules.
 */
import type { IncomingMessage } from 'node:http';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import type { Partner } from '../config/types.ts';
import type { ChainCache } from '../crypto/chain.ts';

const MAX_CHAIN = 3;

export function peerChain(socket: TLSSocket): Uint8Array[] {
  const chain: Uint8Array[] = [];
  let cert: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  while (cert?.raw !== undefined && chain.length < MAX_CHAIN) {
    chain.push(new Uint8Array(cert.raw));
    const issuer: DetailedPeerCertificate | undefined = cert.issuerCertificate;
    if (issuer === undefined || issuer === cert || issuer.raw?.equals(cert.raw)) break;
    cert = issuer;
  }
  return chain;
}

export function createPeerIdentifier(partners: readonly Partner[], cache: ChainCache) {
  return function identify(raw: IncomingMessage): string | undefined {
    const socket = raw.socket as TLSSocket;
    if (typeof socket.getPeerCertificate !== 'function' || !socket.authorized) return undefined;
    const chain = peerChain(socket);
    if (chain.length === 0) return undefined;
    const now = new Date();
    for (const partner of partners) {
      if (cache.validate(chain, partner.trust, now).ok) return partner.adminId;
    }
    return undefined;
  };
}
