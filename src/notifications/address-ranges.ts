/**
 * Which IP addresses a webhook may not reach unless the configuration allows them (docs/threats.md 75): every range
 * of the IANA special-purpose registries that is not the public internet. An IPv6 address that carries an IPv4
 * one (mapped, compatible, NAT64, 6to4) is judged by the IPv4 address it reaches; any IPv6 address outside
 * global unicast (2000::/3) is reserved. Pure.
 */
import { BlockList, isIP } from 'node:net';

export type AddressRule =
  | 'loopback'
  | 'unspecified'
  | 'link-local'
  | 'private'
  | 'shared'
  | 'multicast'
  | 'documentation'
  | 'reserved';

/** What each rule is called in an error's detail. */
export const RULE_NAMES: Record<AddressRule, string> = {
  loopback: 'a loopback address',
  unspecified: 'an unspecified address',
  'link-local': 'a link-local address',
  private: 'a private address',
  shared: 'a shared (carrier-grade NAT) address',
  multicast: 'a multicast address',
  documentation: 'a documentation address',
  reserved: 'a reserved or broadcast address',
};

type Range = readonly [network: string, prefix: number, rule: AddressRule];

const IPV4: readonly Range[] = [
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'shared'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, 'reserved'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'reserved'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];

const IPV6: readonly Range[] = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['64:ff9b:1::', 48, 'private'],
  ['100::', 64, 'reserved'],
  ['2001::', 23, 'reserved'],
  ['2001:db8::', 32, 'documentation'],
  ['3fff::', 20, 'documentation'],
  ['fc00::', 7, 'private'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'private'],
  ['ff00::', 8, 'multicast'],
];

function listsOf(ranges: readonly Range[], family: 'ipv4' | 'ipv6'): [AddressRule, BlockList][] {
  const lists = new Map<AddressRule, BlockList>();
  for (const [network, prefix, rule] of ranges) {
    const list = lists.get(rule) ?? new BlockList();
    list.addSubnet(network, prefix, family);
    lists.set(rule, list);
  }
  return [...lists];
}

const V4_LISTS = listsOf(IPV4, 'ipv4');
// Longer prefixes first, so that ::1 is loopback and 2001:db8:: documentation, not their wider neighbours.
const V6_LISTS = listsOf(
  [...IPV6].sort((a, b) => b[1] - a[1]),
  'ipv6',
);
const GLOBAL_UNICAST = new BlockList();
GLOBAL_UNICAST.addSubnet('2000::', 3, 'ipv6');

/** The rule an address falls under, or undefined for a public one. Anything not an IP address is reserved. */
export function addressRule(address: string): AddressRule | undefined {
  const family = isIP(address);
  if (family === 4) return V4_LISTS.find(([, list]) => list.check(address, 'ipv4'))?.[0];
  if (family !== 6) return 'reserved';
  const words = ipv6Words(address);
  if (words === undefined) return 'reserved';
  const embedded = embeddedIpv4(words);
  if (embedded !== undefined) return addressRule(embedded);
  for (const [rule, list] of V6_LISTS) if (list.check(address, 'ipv6')) return rule;
  return GLOBAL_UNICAST.check(address, 'ipv6') ? undefined : 'reserved';
}

/** The IPv4 address an IPv6 one reaches, when it carries one; else the address itself. */
export function effectiveAddress(address: string): string {
  if (isIP(address) !== 6) return address;
  const words = ipv6Words(address);
  return (words && embeddedIpv4(words)) ?? address;
}

/**
 * ::ffff:a.b.c.d (mapped), ::a.b.c.d (compatible, deprecated), 64:ff9b::a.b.c.d (NAT64) and 2002:aabb:ccdd::
 * (6to4): a socket to these reaches the IPv4 address inside.
 */
function embeddedIpv4(w: readonly number[]): string | undefined {
  const zero = (from: number, to: number) => w.slice(from, to).every((x) => x === 0);
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  if (zero(0, 5) && w[5] === 0xffff) return v4(w[6]!, w[7]!);
  // Compatible form; ::, ::1 and the rest of ::/112 are not IPv4 addresses (and fall under reserved).
  if (zero(0, 6) && w[6] !== 0) return v4(w[6]!, w[7]!);
  if (w[0] === 0x64 && w[1] === 0xff9b && zero(2, 6)) return v4(w[6]!, w[7]!);
  if (w[0] === 0x2002) return v4(w[1]!, w[2]!);
  return undefined;
}

/** The eight 16-bit words of an IPv6 address (with or without a dotted IPv4 tail). */
function ipv6Words(address: string): number[] | undefined {
  const text = address
    .toLowerCase()
    .replace(/%.*$/, '')
    .replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_m, a, b, c, d) =>
      [((Number(a) << 8) | Number(b)).toString(16), ((Number(c) << 8) | Number(d)).toString(16)].join(':'),
    );
  const [head = '', rest, extra] = text.split('::');
  if (extra !== undefined) return undefined;
  const parse = (s: string) => (s === '' ? [] : s.split(':').map((h) => Number.parseInt(h, 16)));
  const left = parse(head);
  const right = rest === undefined ? [] : parse(rest);
  const fill = 8 - left.length - right.length;
  if (rest === undefined ? fill !== 0 : fill < 0) return undefined;
  const words = [...left, ...new Array<number>(fill).fill(0), ...right];
  return words.every((x) => Number.isInteger(x) && x >= 0 && x <= 0xffff) ? words : undefined;
}
