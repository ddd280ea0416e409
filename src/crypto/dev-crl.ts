/**
 * A certificate revocation list for a development PKI (`crl` command): the issuing CA (or the root) revokes
 * certificates it issued, by serial number, in a list partners configure under `partners[].revocation.crls`.
 * Production CAs make their CRLs with their own tools; this one exists so that the whole path can be tried.
 */
import { createPrivateKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { GatewayError } from '../errors.ts';
import { parsePemCertificates } from './certificate.ts';
import { buildCrl, CRL_NUMBER_OID, integer } from './crl-builder.ts';

export interface DevCrlOptions {
  /** PEM of the CA that signs the list (its first certificate) and its private key. */
  caCertificate: string;
  caKey: string;
  /** PEM files of the certificates to revoke; each must have been issued by that CA. */
  revoke: readonly string[];
  /** Days until nextUpdate: partners refuse the CA's chains once it has passed without a newer list. */
  nextUpdateDays: number;
  out: string;
  now?: Date;
}

const DAY_MS = 24 * 3600 * 1000;
/** A CRL file is as large as its entries; a development CA revoking more than this is a mistake. */
const MAX_ENTRIES = 10_000;

export function writeDevCrl(opts: DevCrlOptions): { revoked: string[]; nextUpdate: Date } {
  if (!Number.isInteger(opts.nextUpdateDays) || opts.nextUpdateDays < 1 || opts.nextUpdateDays > 366) {
    throw new GatewayError('BAD_REQUEST', '--next-update-days must be a whole number from 1 to 366');
  }
  if (opts.revoke.length > MAX_ENTRIES) {
    throw new GatewayError('BAD_REQUEST', `at most ${MAX_ENTRIES} certificates in one list`);
  }
  const [ca] = parsePemCertificates(readFileSync(opts.caCertificate, 'utf8'));
  if (ca === undefined) throw new GatewayError('BAD_REQUEST', `${opts.caCertificate} holds no certificate`);
  const key = createPrivateKey(readFileSync(opts.caKey));
  const caName = Buffer.from(ca.subjectDer);
  const serials: string[] = [];
  for (const path of opts.revoke) {
    const [cert] = parsePemCertificates(readFileSync(path, 'utf8'));
    if (cert === undefined) throw new GatewayError('BAD_REQUEST', `${path} holds no certificate`);
    // A list names only certificates of its own issuer; an entry for another CA's certificate revokes nothing.
    if (!caName.equals(cert.issuerDer)) {
      throw new GatewayError('BAD_REQUEST', `${path} was not issued by ${opts.caCertificate}`);
    }
    serials.push(cert.serial);
  }
  const now = opts.now ?? new Date();
  const nextUpdate = new Date(now.getTime() + opts.nextUpdateDays * DAY_MS);
  const der = buildCrl({
    issuerName: ca.subjectDer,
    issuerPrivateKey: key,
    thisUpdate: now,
    nextUpdate,
    revoked: serials.map((serial) => ({ serial, revokedAt: now })),
    // cRLNumber must grow from one list to the next; seconds since the epoch do, for a CA run by hand.
    extensions: [
      { oid: CRL_NUMBER_OID, critical: false, valueDer: integer(BigInt(Math.floor(now.getTime() / 1000))) },
    ],
  });
  const pem = `-----BEGIN X509 CRL-----\n${Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n?$/, '\n')}-----END X509 CRL-----\n`;
  writeFileSync(opts.out, pem, { mode: 0o644 });
  return { revoked: serials, nextUpdate };
}
