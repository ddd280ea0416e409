/**
 * docs/threats.md 75, the address policy on its own: every special-purpose range and the IPv6 forms that carry an
 * IPv4 address, the ways of writing a URL that WHATWG reads as another host, http only where allowed, and
 * names judged by every address they resolve to. Names are resolved by an injected resolver: nothing here
 * resolves or reaches a real address.
 */
import { describe, expect, it } from 'vitest';
import type { ReceiverRules } from '../../src/config/types.ts';
import { addressRule } from '../../src/notifications/address-ranges.ts';
import { createReceiverPolicy, type Resolver } from '../../src/notifications/receiver-policy.ts';

const NONE: ReceiverRules = { allowHttp: false, allowHosts: [], allowNetworks: [] };

/** A resolver from a table; it records every name it was asked. */
function table(entries: Record<string, string[]>): Resolver & { asked: string[] } {
  const asked: string[] = [];
  const resolve = async (host: string) => {
    asked.push(host);
    return entries[host] ?? [];
  };
  return Object.assign(resolve, { asked });
}

describe('address rules', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['169.254.169.254', 'link-local'],
    ['fe80::1', 'link-local'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.254', 'private'],
    ['192.168.1.1', 'private'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['100.64.0.1', 'shared'],
    ['100.127.255.254', 'shared'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['240.0.0.1', 'reserved'],
    ['192.0.0.8', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['2001::1', 'reserved'],
    ['1::1', 'reserved'],
    ['192.0.2.1', 'documentation'],
    ['198.51.100.7', 'documentation'],
    ['203.0.113.9', 'documentation'],
    ['2001:db8::1', 'documentation'],
    ['3fff::1', 'documentation'],
    // IPv6 forms that reach an IPv4 address are judged by it.
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.1.2.3', 'private'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['::127.0.0.1', 'loopback'],
    ['64:ff9b::10.0.0.1', 'private'],
    ['64:ff9b::7f00:1', 'loopback'],
    ['64:ff9b:1::1', 'private'],
    ['2002:7f00:1::', 'loopback'],
    ['2002:c0a8:101::1', 'private'],
    ['not an address', 'reserved'],
  ])('%s is %s', (address, rule) => {
    expect(addressRule(address)).toBe(rule);
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '172.32.0.1',
    '100.128.0.1',
    '2606:4700::1111',
    '::ffff:8.8.8.8',
    '64:ff9b::8.8.8.8',
  ])('%s is public', (address) => {
    expect(addressRule(address)).toBeUndefined();
  });
});

describe('a receiver URL', () => {
  const refusedWith = async (rules: ReceiverRules, url: string, detail: RegExp, resolve = table({})) => {
    const got = await createReceiverPolicy(rules, resolve).check(url);
    expect(got, url).toMatchObject({ ok: false, reason: 'refused' });
    if (!got.ok) expect(got.detail, url).toMatch(detail);
  };

  it.each([
    ['https://127.0.0.1/hook', /127\.0\.0\.1 is a loopback address/],
    ['https://[::1]/hook', /::1 is a loopback address/],
    ['https://[::ffff:127.0.0.1]/hook', /is a loopback address/],
    ['https://[0:0:0:0:0:0:0:1]/', /::1 is a loopback address/],
    ['https://169.254.169.254/latest/meta-data', /link-local/],
    ['https://10.0.0.5:22/', /private/],
    ['https://192.168.0.10/', /private/],
    ['https://100.64.1.1/', /carrier-grade NAT/],
    ['https://0.0.0.0/', /unspecified/],
    ['https://[fe80::1]/', /link-local/],
    ['https://[64:ff9b::a00:1]/', /private/],
    ['https://224.0.0.251/', /multicast/],
    ['https://255.255.255.255/', /broadcast/],
    ['https://192.0.2.10/', /documentation/],
  ])('%s is refused before anything is resolved or reached', async (url, detail) => {
    const resolve = table({});
    await refusedWith(NONE, url, detail, resolve);
    expect(resolve.asked).toEqual([]);
  });

  it.each([
    ['https://2130706433/', /2130706433 is not written in its normal form \(127\.0\.0\.1\)/],
    ['https://0x7f000001/', /normal form/],
    ['https://0x7f.1/', /normal form/],
    ['https://0177.0.0.1/', /normal form/],
    ['https://127.1/', /normal form/],
    ['https://%31%32%37.0.0.1/', /normal form|plain form|written as/],
    ['https://hooks.example./x', /must not end with a dot/],
    ['https://user:pass@hooks.example/x', /credentials/],
    ['https://hooks.example/x#frag', /fragment/],
    ['https://hooks.example/x#', /fragment/],
    ['https:\\\\hooks.example\\x', /written as/],
    ['https:hooks.example/x', /written as/],
    [' https://hooks.example/x', /written as/],
    ['https://hooks.example/a b', /written as/],
  ])('%s is refused for how it is written', async (url, detail) => {
    const resolve = table({ 'hooks.example': ['8.8.8.8'] });
    await refusedWith(NONE, url, detail, resolve);
  });

  it('that is not http(s) at all is invalid', async () => {
    const policy = createReceiverPolicy(NONE, table({}));
    expect(await policy.check('ftp://hooks.example/x')).toMatchObject({ ok: false, reason: 'invalid' });
    expect(await policy.check('not a url')).toMatchObject({ ok: false, reason: 'invalid' });
  });

  it('is judged by every address its name resolves to', async () => {
    const resolve = table({
      'public.example': ['8.8.8.8', '2606:4700::1111'],
      'mixed.example': ['8.8.8.8', '10.0.0.7'],
      'mapped.example': ['::ffff:127.0.0.1'],
    });
    const policy = createReceiverPolicy(NONE, resolve);
    const ok = await policy.check('https://public.example:8443/hook?x=1');
    expect(ok).toMatchObject({
      ok: true,
      receiver: { host: 'public.example', addresses: ['8.8.8.8', '2606:4700::1111'] },
    });
    expect(await policy.check('https://mixed.example/')).toMatchObject({
      ok: false,
      reason: 'refused',
      detail: expect.stringMatching(/mixed\.example resolves to a private address/),
    });
    expect(await policy.check('https://mapped.example/')).toMatchObject({ ok: false, reason: 'refused' });
    const refused = await policy.check('https://mixed.example/');
    // The detail names the rule, not what the name resolved to.
    if (!refused.ok) expect(refused.detail).not.toMatch(/10\.0\.0\.7/);
  });

  it('whose name does not resolve, or not in time, is unresolved', async () => {
    const never: Resolver = () => new Promise(() => {});
    expect(await createReceiverPolicy(NONE, table({})).check('https://nowhere.example/')).toMatchObject({
      ok: false,
      reason: 'unresolved',
    });
    expect(await createReceiverPolicy(NONE, never, 50).check('https://slow.example/')).toMatchObject({
      ok: false,
      reason: 'unresolved',
    });
    const failing: Resolver = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
    };
    expect(await createReceiverPolicy(NONE, failing).check('https://x.example/')).toMatchObject({
      ok: false,
      reason: 'unresolved',
    });
  });

  it('may be private where the configuration allows its host or its network', async () => {
    const resolve = table({ 'hooks.internal': ['10.20.0.5'], 'other.internal': ['10.30.0.5'] });
    const rules: ReceiverRules = {
      allowHttp: false,
      allowHosts: ['hooks.internal', '::1'],
      allowNetworks: [{ network: '127.0.0.0', prefix: 8, family: 'ipv4' }],
    };
    const policy = createReceiverPolicy(rules, resolve);
    expect(await policy.check('https://hooks.internal/x')).toMatchObject({ ok: true });
    expect(await policy.check('https://[::1]:9000/x')).toMatchObject({ ok: true });
    expect(await policy.check('https://127.0.0.2/x')).toMatchObject({ ok: true });
    expect(await policy.check('https://[::ffff:7f00:1]/x')).toMatchObject({ ok: true });
    expect(await policy.check('https://other.internal/x')).toMatchObject({ ok: false, reason: 'refused' });
    expect(await policy.check('https://10.20.0.5/x')).toMatchObject({ ok: false, reason: 'refused' });
  });

  it('is https unless http is allowed, and then only to allowed hosts', async () => {
    const resolve = table({ 'public.example': ['8.8.8.8'], 'hooks.internal': ['10.20.0.5'] });
    const allowed = { allowHosts: ['hooks.internal'], allowNetworks: [] };
    await refusedWith(
      { ...NONE, ...allowed },
      'http://hooks.internal/x',
      /plain http is not allowed/,
      resolve,
    );
    const policy = createReceiverPolicy({ allowHttp: true, ...allowed }, resolve);
    expect(await policy.check('http://hooks.internal/x')).toMatchObject({ ok: true });
    expect(await policy.check('http://public.example/x')).toMatchObject({
      ok: false,
      reason: 'refused',
      detail: expect.stringMatching(/plain http is allowed only to hosts the configuration allows/),
    });
  });
});
