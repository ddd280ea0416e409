/**
 * Who is on the other end of a mutual-TLS connection. The handshake completes without a client certificate
 * (health probes need none), so nothing is assumed of the connection: no certificate, or one that OpenSSL did
 * not verify against the partners' anchors (`socket.authorized` false), identifies no one. A verified one is
 * mapped to the one partner whose anchors it chains to, by the gateway's own chain rules.
 *
 * The runtime does not always hand over the chain the client sent: on some versions the server sees the leaf
 * alone although OpenSSL verified the whole path. So the path is built here, from the leaf and the issuing CAs
 * each partner gave out of band (`intermediates`), never from names the client chose: an issuer is only a
 * candidate, and the signature check of the chain rules decides.
 */
import { X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import type { ChainCache } from '../crypto/chain-cache.ts';
import type { Partner } from '../mra/types.ts';

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

/**
 * The paths worth validating for `partner`: the chain as the runtime gave it when it gave more than the leaf;
 * otherwise the leaf alone (issued by an anchor, or pinned) and the leaf under each of the partner's issuing CAs
 * whose name and key identifier fit the leaf's issuer.
 */
export function candidatePaths(given: readonly Uint8Array[], partner: Partner): Uint8Array[][] {
  const leaf = given[0];
  if (leaf === undefined) return [];
  if (given.length > 1) return [[...given]];
  const paths: Uint8Array[][] = [[leaf]];
  if (partner.intermediates.length === 0) return paths;
  const leafX509 = parseX509(leaf);
  if (leafX509 === undefined) return paths;
  for (const intermediate of partner.intermediates) {
    if (issues(leafX509, intermediate.x509)) paths.push([leaf, intermediate.der]);
  }
  return paths;
}

export function createPeerIdentifier(partners: readonly Partner[], cache: ChainCache) {
  return function identify(raw: IncomingMessage): string | undefined {
    const socket = raw.socket as TLSSocket;
    if (typeof socket.getPeerCertificate !== 'function' || !socket.authorized) return undefined;
    const given = peerChain(socket);
    if (given.length === 0) return undefined;
    const now = new Date();
    for (const partner of partners) {
      for (const path of candidatePaths(given, partner)) {
        if (cache.validate(path, partner.trust, now, 'tls-client').ok) return partner.adminId;
      }
    }
    return undefined;
  };
}

function parseX509(der: Uint8Array): X509Certificate | undefined {
  try {
    return new X509Certificate(der);
  } catch {
    return undefined;
  }
}

/** Names and key identifiers only (node's checkIssued): enough to pick a candidate, never to trust one. */
function issues(leaf: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return leaf.checkIssued(issuer);
  } catch {
    return false;
  }
}
