/**
 * The `notifications` section: where webhook receivers may be, and the keys that seal webhook secrets at rest.
 * Host names and networks are normalised here, once, as the receiver policy compares them.
 */
import { createSecretKey } from 'node:crypto';
import { isIP } from 'node:net';
import { invalid } from './invalid.ts';
import type { RawConfig, RawSecret } from './raw.ts';
import type { NotificationSettings } from './types.ts';

const DAY_MS = 86_400_000;

export function resolveNotifications(
  raw: RawConfig['notifications'],
  readSecret: (secret: RawSecret, field: string) => string,
): NotificationSettings {
  const seen = new Set<string>();
  const secretKeys = (raw?.secretKeys ?? []).map((k, i) => {
    const field = `/notifications/secretKeys/${i}`;
    if (seen.has(k.id)) throw invalid(`${field}/id: key ${k.id} is configured twice`);
    seen.add(k.id);
    const text = readSecret(k.key, `${field}/key`).trim();
    const bytes = Buffer.from(text, 'base64');
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || bytes.length !== 32) {
      throw invalid(`${field}/key: must be 32 random bytes in base64 (openssl rand -base64 32)`);
    }
    return { id: k.id, key: createSecretKey(bytes) };
  });
  return {
    allowHttp: raw?.allowHttp ?? false,
    allowHosts: (raw?.allowHosts ?? []).map((h, i) => hostOf(h, `/notifications/allowHosts/${i}`)),
    allowNetworks: (raw?.allowNetworks ?? []).map((n, i) =>
      networkOf(n, `/notifications/allowNetworks/${i}`),
    ),
    secretKeys,
    secretOverlapMs: raw?.secretOverlapMs ?? DAY_MS,
  };
}

/** As WHATWG URL writes the host (lower case, IPv4 dotted, IPv6 compressed), IPv6 without brackets. */
function hostOf(text: string, field: string): string {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  let hostname: string;
  try {
    hostname = new URL(`https://${isIP(bare) === 6 ? `[${bare}]` : bare}/`).hostname;
  } catch {
    throw invalid(`${field}: ${text} is not a host name or IP address`);
  }
  const normal = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  if (normal !== bare.toLowerCase() || normal.endsWith('.')) {
    throw invalid(`${field}: write ${text} in its normal form${normal.endsWith('.') ? '' : ` (${normal})`}`);
  }
  return normal;
}

function networkOf(text: string, field: string): NotificationSettings['allowNetworks'][number] {
  const [network = '', prefixText = '', extra] = text.split('/');
  const family = isIP(network);
  const prefix = Number(prefixText);
  const max = family === 6 ? 128 : 32;
  if (extra !== undefined || family === 0 || !/^\d{1,3}$/.test(prefixText) || prefix > max) {
    throw invalid(`${field}: ${text} is not a network in CIDR notation (10.20.0.0/16, fd00::/8)`);
  }
  return { network, prefix, family: family === 6 ? 'ipv6' : 'ipv4' };
}
