import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleRecord } from '../../src/cli/samples.ts';
import { type Gateway, startGateway } from '../../src/gateway.ts';
import { createLogger } from '../../src/log.ts';
import { signRecord } from '../../src/publishing/sign-record.ts';
import { openStore } from '../../src/store/open.ts';
import { makeAdmins, type TestAdmins } from '../support/admins.ts';

// docs/threats.md 69: logs hold no private key, token, Authorization header or full personal payload, and logging a
// hostile deep payload does not crash.
let admins: TestAdmins;
let gateway: Gateway;
const lines: string[] = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    lines.push(chunk.toString('utf8'));
    done();
  },
});
const log = createLogger('trace', sink);

beforeAll(async () => {
  admins = makeAdmins(['PE', 'CL']);
  const store = await openStore({ kind: 'embedded', dataDir: 'memory://' });
  gateway = await startGateway(admins.get('CL').config, { store, log });
});
afterAll(async () => {
  await gateway.close();
  await gateway.store.close();
  admins.cleanup();
});

describe('logs', () => {
  it('keep no token, Authorization header, key or personal payload', async () => {
    const pe = admins.get('PE').config.home.signers[0]!;
    const name = 'Maria Quispe Private Person';
    const record = await signRecord(
      sampleRecord('PE', 7, {
        operator: {
          ...sampleRecord('PE', 7).operator,
          name,
          address: { street: 'Jr. Secreto 1', city: 'Lima', country: 'PE' },
        },
      }),
      pe,
    );
    const response = await fetch(`${gateway.url}/mra/v1/records`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: 'Bearer TOKEN-SHOULD-NOT-APPEAR',
        cookie: 'sid=COOKIE-X',
      },
      body: JSON.stringify({ records: [record, 'x.y.z'] }),
    });
    expect(response.status).toBe(200);
    await new Promise((r) => setTimeout(r, 50));
    const text = lines.join('');
    expect(text).toContain('records batch received');
    expect(text).not.toContain('TOKEN-SHOULD-NOT-APPEAR');
    expect(text).not.toContain('COOKIE-X');
    expect(text).not.toContain(name);
    expect(text).not.toContain('Jr. Secreto');
    expect(text).not.toContain(record);
    const keyPem = readFileSync(join(admins.get('CL').dev.certDir, 'signing.key'), 'utf8');
    expect(text).not.toContain('PRIVATE KEY');
    expect(text).not.toContain(keyPem.split('\n')[1]!);
  });

  it('survive logging a hostile, deeply nested object', () => {
    let deep: Record<string, unknown> = { leaf: 'x' };
    for (let i = 0; i < 10_000; i++) deep = { nested: deep };
    const before = lines.length;
    expect(() => log.warn({ payload: deep }, 'hostile payload')).not.toThrow();
    expect(lines.length).toBe(before + 1);
    expect(lines.at(-1)!.length).toBeLessThan(10_000);
  });
});
