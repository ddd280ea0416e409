/**
 * I6 against a partner's answers: what a partner's gateway sends back to a delivery is untrusted, so it is read
 * up to a bound and no further, whatever its status, rather than held whole in memory. Loopback only.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Partner } from '../../src/mra/types.ts';
import { createPartnerClient } from '../../src/partner-client/client.ts';
import { trustStoreOf } from '../support/pki.ts';

const MIB = 1024 * 1024;
/** Far beyond any answer the gateway reads; the server stops here in any case. */
const TOTAL_MIB = 96;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

/** A partner that answers every request with `status` and a body of TOTAL_MIB, sent as fast as it is read. */
async function flooding(status: number): Promise<{ url: string; written: () => number }> {
  let written = 0;
  const chunk = Buffer.alloc(MIB, 0x20);
  const server: Server = createServer((req, res: ServerResponse) => {
    req.resume();
    res.writeHead(status, { 'content-type': 'application/json' });
    let sent = 0;
    const more = () => {
      while (sent < TOTAL_MIB && !res.destroyed) {
        sent += 1;
        const ok = res.write(chunk, () => {
          written += 1;
        });
        if (!ok) return void res.once('drain', more);
      }
      res.end();
    };
    res.on('error', () => {});
    more();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/mra/v1`, written: () => written };
}

function partnerAt(endpoint: string): Partner {
  return {
    adminId: 'PE',
    name: undefined,
    endpoint,
    trust: trustStoreOf([]),
    intermediates: [],
    mra: { benefits: [] } as unknown as Partner['mra'],
  };
}

describe("a partner's answer to a delivery", () => {
  for (const status of [200, 500]) {
    it(`of ${TOTAL_MIB} MiB with status ${status} is refused without being read whole`, async () => {
      const partner = await flooding(status);
      const client = createPartnerClient('CL', partnerAt(partner.url), { timeoutMs: 60_000 });
      cleanups.push(() => client.close());
      const result = await client.sendRecords(['a.b.c']);
      expect(result.ok).toBe(false);
      // Socket buffers hold a few MiB at most; reading it whole would have taken every one.
      expect(partner.written()).toBeLessThan(TOTAL_MIB / 2);
    }, 180_000);
  }
});

/** A partner that answers 200 at once, then its body a byte every 100 ms, each within the idle bound. */
async function trickling(): Promise<string> {
  const server: Server = createServer((req, res: ServerResponse) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' });
    const timer = setInterval(() => res.write(' '), 100);
    res.on('close', () => clearInterval(timer));
    res.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as AddressInfo;
  return `http://127.0.0.1:${port}/mra/v1`;
}

describe('a partner that trickles its answer', () => {
  it('costs a delivery a bounded time, then counts as no answer', async () => {
    const client = createPartnerClient('CL', partnerAt(await trickling()), { timeoutMs: 1_000 });
    cleanups.push(() => client.close());
    let timer: NodeJS.Timeout | undefined;
    const stalled = new Promise<'stalled'>((resolve) => {
      timer = setTimeout(() => resolve('stalled'), 20_000);
    });
    const outcome = await Promise.race([
      client.sendRecords(['a.b.c']).then(
        (r) => (r.ok ? 'delivered' : 'refused'),
        () => 'no answer',
      ),
      stalled,
    ]).finally(() => clearTimeout(timer));
    expect(outcome).toBe('no answer');
  }, 180_000);
});

describe('a partner that trickles a feed page', () => {
  it('costs a pull a bounded time, then counts as no answer', async () => {
    const client = createPartnerClient('CL', partnerAt(await trickling()), { timeoutMs: 1_000 });
    cleanups.push(() => client.close());
    let timer: NodeJS.Timeout | undefined;
    const stalled = new Promise<'stalled'>((resolve) => {
      timer = setTimeout(() => resolve('stalled'), 20_000);
    });
    const outcome = await Promise.race([
      client.getAuthorized('/feed', 'MRA x').then(
        () => 'answered',
        () => 'no answer',
      ),
      stalled,
    ]).finally(() => clearTimeout(timer));
    expect(outcome).toBe('no answer');
  }, 180_000);
});
