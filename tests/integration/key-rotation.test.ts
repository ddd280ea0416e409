/**
 * Key rotation: a gateway holds several signing certificates; the newest signs, every one is
 * published in .well-known until it is removed from the configuration, and a partner accepts records signed
 * with any of them that chains to its anchors.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { sampleRecord } from '../../src/cli/samples.ts';
import { loadConfig } from '../../src/config/load.ts';
import type { RawConfig } from '../../src/config/raw.ts';
import type { GatewayConfig } from '../../src/config/types.ts';
import { toPem } from '../../src/crypto/cert-builder.ts';
import { signRecord } from '../../src/publishing/sign-record.ts';
import { makeAdmins, type TestAdmins } from '../support/admins.ts';
import { httpRequest, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { issueUnder } from '../support/issue.ts';

let admins: TestAdmins;
let rotated: GatewayConfig;
let receiver: TestGateway;
let sender: TestGateway;

beforeAll(async () => {
  admins = makeAdmins(['PE', 'CL']);
  const pe = admins.get('PE');
  // A second signing certificate under PE's CA, newer than the one dev-ca made.
  const next = issueUnder(pe, { notBefore: new Date(Date.now() + 1_000 - 60_000) });
  const certPath = join(admins.dir, 'PE-next.pem');
  const keyPath = join(admins.dir, 'PE-next.key');
  writeFileSync(certPath, toPem(next.chainDer[0]!));
  writeFileSync(keyPath, next.leafKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const raw = parse(readFileSync(pe.configPath, 'utf8')) as RawConfig;
  raw.home.signing.push({ key: { file: keyPath }, certificateChain: certPath });
  const path = join(admins.dir, 'PE-rotated.yaml');
  writeFileSync(path, stringify(raw));
  rotated = loadConfig(path, { env: {} });
  receiver = await startTestGateway(admins.get('CL').config, 'embedded');
  sender = await startTestGateway(rotated, 'embedded');
});
afterAll(async () => {
  await sender?.close();
  await receiver?.close();
  admins.cleanup();
});

describe('signing key rotation', () => {
  it('signs with the newest certificate and publishes both', async () => {
    const [newest, older] = rotated.home.signers;
    expect(rotated.home.signers).toHaveLength(2);
    expect(newest!.chain[0]!.notBefore.getTime()).toBeGreaterThan(older!.chain[0]!.notBefore.getTime());
    const wk = await httpRequest(`${sender.url}/mra/v1/.well-known/mra-gateway`, { method: 'GET' });
    const keys = (JSON.parse(wk.text) as { keys: { keys: { kid: string; x5c: string[] }[] } }).keys.keys;
    expect(keys.map((k) => k.kid)).toEqual([newest!.kid, older!.kid]);
    expect(keys.every((k) => !('d' in k))).toBe(true);

    // A receipt from the rotated gateway is signed by the newest key.
    const record = await signRecord(sampleRecord('CL', 1), admins.get('CL').config.home.signers[0]!);
    const { receiptJws } = await sender.send([record]);
    const header = JSON.parse(Buffer.from(receiptJws.split('.')[0]!, 'base64url').toString('utf8')) as {
      kid: string;
    };
    expect(header.kid).toBe(newest!.kid);
  });

  it('is accepted by the partner under either certificate during the overlap', async () => {
    const [newest, older] = rotated.home.signers;
    const byNewest = await signRecord(sampleRecord('PE', 101), newest!);
    const byOlder = await signRecord(sampleRecord('PE', 102), older!);
    const { receipt } = await receiver.send([byNewest, byOlder]);
    expect(receipt.results.map((r) => r.outcome)).toEqual(['accepted', 'accepted']);
  });
});
