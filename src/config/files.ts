/**
 * Reading the files a configuration names (keys, certificates, anchors, CRLs, secrets). A file that cannot be
 * read is reported as such, with the field that names it and the reason in words, before anything tries to
 * parse it: "/home/signing/0/key: cannot read /etc/mra/signing.key: no such file". Also the reading of the
 * PEM certificate files it names: partners' trust anchors and issuing CAs, the home's signing chain.
 */
import { readFileSync } from 'node:fs';
import { parsePemCertificates } from '../crypto/certificate.ts';
import type { ParsedCertificate } from '../crypto/types.ts';
import { invalid } from './invalid.ts';

const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'a part of the path is not a folder',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'the path is too long',
};

/** The bytes of a configured file, or CONFIG_INVALID naming the field, the path and why. */
export function readConfiguredFile(path: string, field: string): Buffer {
  try {
    return readFileSync(path);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const reason = (code !== undefined ? REASONS[code] : undefined) ?? code ?? (cause as Error).message;
    throw invalid(`${field}: cannot read ${path}: ${reason}`);
  }
}

/** A configured text file (PEM, a secret), read as UTF-8. */
export function readConfiguredText(path: string, field: string): string {
  return readConfiguredFile(path, field).toString('utf8');
}

/** The certificates of a PEM file the configuration names at `field`: at least one, or CONFIG_INVALID. */
export function parseCertificates(pem: string, field: string): ParsedCertificate[] {
  let certs: ReturnType<typeof parsePemCertificates>;
  try {
    certs = parsePemCertificates(pem);
  } catch (cause) {
    throw invalid(`${field}: not a PEM certificate file: ${(cause as Error).message}`);
  }
  if (certs.length === 0) throw invalid(`${field}: holds no PEM certificate`);
  return certs;
}
