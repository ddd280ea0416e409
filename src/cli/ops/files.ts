/** Files the operators' commands write: private keys readable by their owner only, never overwritten unasked. */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname } from 'node:path';
import { GatewayError } from '../../errors.ts';

/** Refuses, before anything is made, when one of `paths` exists and `force` is not given. */
export function refuseExisting(paths: readonly string[], force: boolean): void {
  if (force) return;
  const present = paths.filter((p) => existsSync(p));
  if (present.length > 0) {
    throw new GatewayError('CONFIG_INVALID', `refusing to overwrite ${present.join(', ')} (add --force)`);
  }
}

export function writeNew(path: string, text: string, mode: 0o600 | 0o644, force: boolean): void {
  mkdirSync(dirname(path), { recursive: true });
  // Removed first rather than truncated: the mode of a file only takes effect when the file is created.
  if (force) rmSync(path, { force: true });
  writeFileSync(path, text, { mode, flag: 'wx' });
}

const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Sorts host names from IP addresses for a subjectAltName, refusing anything that is neither. */
export function hostNames(hosts: readonly string[]): { dns: string[]; ips: string[] } {
  const dns: string[] = [];
  const ips: string[] = [];
  for (const given of hosts) {
    const host = given.trim().toLowerCase();
    if (dns.includes(host) || ips.includes(host)) continue;
    const version = isIP(host);
    if (version === 4 || (version === 6 && !host.includes('.'))) ips.push(host);
    else if (host.length <= 253 && host.split('.').every((label) => DNS_LABEL.test(label))) dns.push(host);
    else {
      throw new GatewayError(
        'BAD_REQUEST',
        `--host ${JSON.stringify(given)} is neither a DNS name nor an IP address`,
      );
    }
  }
  return { dns, ips };
}
