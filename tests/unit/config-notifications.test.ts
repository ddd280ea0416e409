/**
 * The `notifications` section of the configuration: secure defaults (https only, no private receiver, no key:
 * no subscription), host names and networks normalised once, and every bad entry named.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadConfig } from '../../src/config/load.ts';
import type { RawConfig } from '../../src/config/raw.ts';
import { GatewayError } from '../../src/errors.ts';
import { makeAdmins, type TestAdmins } from '../support/admins.ts';

let admins: TestAdmins;
beforeAll(() => {
  admins = makeAdmins(['PE', 'CL']);
});
afterAll(() => admins.cleanup());

function load(notifications: RawConfig['notifications'], env: Record<string, string> = {}) {
  const raw = parse(readFileSync(admins.get('PE').configPath, 'utf8')) as RawConfig;
  if (notifications === undefined) delete raw.notifications;
  else raw.notifications = notifications;
  const path = join(admins.dir, `notifications-${randomBytes(4).toString('hex')}.yaml`);
  writeFileSync(path, stringify(raw));
  return loadConfig(path, { env });
}

function refused(
  notifications: RawConfig['notifications'],
  message: RegExp,
  env: Record<string, string> = {},
) {
  try {
    load(notifications, env);
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).code).toBe('CONFIG_INVALID');
    expect((error as GatewayError).message).toMatch(message);
    return;
  }
  throw new Error('expected a configuration error');
}

const KEY = randomBytes(32).toString('base64');

describe('notifications configuration', () => {
  it('defaults to https only, no allowed host or network, no key, a day of overlap', () => {
    expect(load(undefined).notifications).toEqual({
      allowHttp: false,
      allowHosts: [],
      allowNetworks: [],
      secretKeys: [],
      secretOverlapMs: 86_400_000,
    });
  });

  it('normalises hosts and networks as the receiver policy compares them', () => {
    const n = load(
      {
        allowHosts: ['Hooks.Internal.example', '[::1]', '10.0.0.5'],
        allowNetworks: ['10.20.0.0/16', 'fd00::/8'],
        secretKeys: [{ id: 'k1', key: { env: 'WEBHOOK_KEY' } }],
        secretOverlapMs: 3_600_000,
      },
      { WEBHOOK_KEY: `${KEY}\n` },
    ).notifications;
    expect(n.allowHosts).toEqual(['hooks.internal.example', '::1', '10.0.0.5']);
    expect(n.allowNetworks).toEqual([
      { network: '10.20.0.0', prefix: 16, family: 'ipv4' },
      { network: 'fd00::', prefix: 8, family: 'ipv6' },
    ]);
    expect(n.secretKeys.map((k) => [k.id, k.key.symmetricKeySize])).toEqual([['k1', 32]]);
    expect(n.secretOverlapMs).toBe(3_600_000);
  });

  it.each([
    [{ allowHosts: ['0x7f.1'] }, /allowHosts\/0: write 0x7f\.1 in its normal form \(127\.0\.0\.1\)/],
    [{ allowHosts: ['hooks.example.'] }, /allowHosts\/0/],
    [{ allowHosts: ['a b'] }, /allowHosts\/0/],
    [{ allowNetworks: ['10.0.0.0'] }, /allowNetworks\/0: 10\.0\.0\.0 is not a network in CIDR/],
    [{ allowNetworks: ['10.0.0.0/33'] }, /allowNetworks\/0/],
    [{ allowNetworks: ['fd00::/129'] }, /allowNetworks\/0/],
    [{ allowNetworks: ['example/8'] }, /allowNetworks\/0/],
    [{ secretOverlapMs: -1 }, /secretOverlapMs/],
  ])('refuses %j', (notifications, message) => {
    refused(notifications, message);
  });

  it('refuses a key that is not 32 bytes of base64, or an id given twice', () => {
    const key = (value: string) => ({ K: value });
    const keys = { secretKeys: [{ id: 'k1', key: { env: 'K' } }] };
    refused(
      keys,
      /secretKeys\/0\/key: must be 32 random bytes in base64/,
      key(randomBytes(16).toString('base64')),
    );
    refused(keys, /secretKeys\/0\/key/, key('not base64 at all!'));
    refused(keys, /environment variable K is not set/, {});
    refused(
      {
        secretKeys: [
          { id: 'k1', key: { env: 'K' } },
          { id: 'k1', key: { env: 'K' } },
        ],
      },
      /secretKeys\/1\/id: key k1 is configured twice/,
      { K: KEY },
    );
  });
});
