/**
 * Where a webhook may point (docs/threats.md 75), one rule for subscription time and delivery time: an https URL in
 * its plain form (no credentials, fragment, odd IPv4 spellings or trailing dot), whose host — a literal
 * address, or every address its name resolves to — is on the public internet, unless the configuration allows
 * that host by name or its addresses by network. Plain http only to such allowed hosts, and only when the
 * configuration allows http at all. The check resolves names but never connects; delivery then connects to
 * exactly the addresses checked here (webhook-post.ts), so a name cannot change its answer in between.
 */
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import type { ReceiverRules } from '../config/types.ts';
import { addressRule, effectiveAddress, RULE_NAMES } from './address-ranges.ts';

/** A name's addresses; injected in tests so that no test resolves a real outside name. */
export type Resolver = (host: string) => Promise<readonly string[]>;

export const systemResolver: Resolver = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

/** Bound on one name resolution; a resolver that never answers costs this, then a retry. */
export const RESOLVE_TIMEOUT_MS = 5_000;

export interface CheckedReceiver {
  url: URL;
  /** The host without IPv6 brackets, as the TLS server name and the pinned lookup see it. */
  host: string;
  /** Every address the host stands for, each one allowed. */
  addresses: readonly string[];
}

/**
 * `invalid`: not an http(s) URL at all; `refused`: a rule refuses it (named in `detail`); `unresolved`: the
 * name has no address now (a delivery retries it).
 */
export type ReceiverCheck =
  | { ok: true; receiver: CheckedReceiver }
  | { ok: false; reason: 'invalid' | 'refused' | 'unresolved'; detail: string };

export interface ReceiverPolicy {
  check(text: string): Promise<ReceiverCheck>;
}

/** The URL as written: scheme, authority without credentials, then an optional path and query. */
const PLAIN_FORM = /^https?:\/\/([^/?#\\\s@]+)([/?][^#\\\s]*)?$/i;

const CONFIG_HINT =
  'the configuration does not allow it (notifications.allowHosts, notifications.allowNetworks)';

export function createReceiverPolicy(
  rules: ReceiverRules,
  resolve: Resolver = systemResolver,
  resolveTimeoutMs = RESOLVE_TIMEOUT_MS,
): ReceiverPolicy {
  const allowedHosts = new Set(rules.allowHosts);
  const allowedNetworks = new BlockList();
  for (const n of rules.allowNetworks) allowedNetworks.addSubnet(n.network, n.prefix, n.family);
  const inAllowedNetwork = (address: string) => {
    const reached = effectiveAddress(address);
    return allowedNetworks.check(reached, isIP(reached) === 6 ? 'ipv6' : 'ipv4');
  };

  return {
    async check(text) {
      const form = formOf(text);
      if (!form.ok) return form;
      const { url, host } = form;
      const hostAllowed = allowedHosts.has(host);
      const plainHttp = url.protocol === 'http:';
      if (plainHttp && !rules.allowHttp) {
        return refused('url must be https; plain http is not allowed (notifications.allowHttp)');
      }
      const literal = isIP(host) !== 0;
      let addresses: readonly string[];
      if (literal) addresses = [host];
      else {
        try {
          addresses = await withDeadline(resolve(host), resolveTimeoutMs);
        } catch {
          addresses = [];
        }
        if (addresses.length === 0) {
          return { ok: false, reason: 'unresolved', detail: `url host ${host} does not resolve` };
        }
      }
      if (!hostAllowed) {
        for (const address of addresses) {
          const rule = inAllowedNetwork(address) ? undefined : addressRule(address);
          if (rule !== undefined) {
            const verb = literal ? 'is' : 'resolves to';
            return refused(`url host ${host} ${verb} ${RULE_NAMES[rule]}; ${CONFIG_HINT}`);
          }
        }
      }
      if (plainHttp && !hostAllowed && !addresses.every(inAllowedNetwork)) {
        return refused(
          `plain http is allowed only to hosts the configuration allows; url host ${host} is not one of them`,
        );
      }
      return { ok: true, receiver: { url, host, addresses } };
    },
  };
}

type Form =
  | { ok: true; url: URL; host: string }
  | { ok: false; reason: 'invalid' | 'refused'; detail: string };

/** The rules on how the URL is written; they need no resolution. */
function formOf(text: string): Form {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, reason: 'invalid', detail: 'url is not an absolute URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, reason: 'invalid', detail: `url scheme ${url.protocol} is not https or http` };
  }
  // Credentials would be stored and logged with the URL; a fragment is never sent and only hides a suffix.
  if (url.username !== '' || url.password !== '') return refused('url must not carry credentials');
  if (text.includes('#')) return refused('url must not carry a fragment');
  const written = PLAIN_FORM.exec(text);
  if (written === null) {
    return refused('url must be written as scheme://host[:port]/path?query, without spaces or backslashes');
  }
  const authority = written[1]!;
  const writtenHost = authority.replace(/:[^:\]]*$/, '');
  // WHATWG reads 2130706433, 0x7f.1 and 0177.0.0.1 as 127.0.0.1, and percent-escapes and Unicode names as
  // other names: one spelling per host, the normalised one, so that what is checked is what is read. An IPv6
  // literal is one address however it is written; it is judged in WHATWG's form.
  if (!writtenHost.startsWith('[') && writtenHost.toLowerCase() !== url.hostname) {
    return refused(`url host ${writtenHost} is not written in its normal form (${url.hostname})`);
  }
  if (url.hostname.endsWith('.')) return refused('url host must not end with a dot');
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { ok: true, url, host };
}

function refused(detail: string): { ok: false; reason: 'refused'; detail: string } {
  return { ok: false, reason: 'refused', detail };
}

async function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    work.catch(() => {});
  }
}
