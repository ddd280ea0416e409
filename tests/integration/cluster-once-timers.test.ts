/**
 * The timers a gateway needs once (partner sync's feed pulls, summaries, retention) run in one process of a
 * cluster only (src/cluster/worker.ts gives `onceTimers` to slot 1): a gateway started with `onceTimers: false`
 * pulls no partner feed, while one started with it, the same configuration otherwise, pulls on its interval.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Gateway, startGateway } from '../../src/gateway.ts';
import { createLogger } from '../../src/log.ts';
import { makeAdmins } from '../support/admins.ts';
import { waitFor } from '../support/delivery.ts';
import { openTestStore } from '../support/gateway.ts';

interface Partner {
  server: Server;
  feedRequests: number;
  url: string;
}

/** A stand-in for the partner's gateway that counts the feed requests it gets (and answers them 503). */
async function countingPartner(): Promise<Partner> {
  const partner: Partner = { server: createServer(), feedRequests: 0, url: '' };
  partner.server.on('request', (req, res) => {
    if ((req.url ?? '').startsWith('/mra/v1/feed')) partner.feedRequests += 1;
    res.writeHead(503, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => partner.server.listen(0, '127.0.0.1', resolve));
  partner.url = `http://127.0.0.1:${(partner.server.address() as AddressInfo).port}/mra/v1`;
  return partner;
}

const partners: Partner[] = [];
const gateways: Gateway[] = [];
const disposals: (() => Promise<void>)[] = [];

async function start(onceTimers: boolean): Promise<Partner> {
  const partner = await countingPartner();
  partners.push(partner);
  const adminsOf = makeAdmins(['PE', 'CL'], {
    edit: (id, raw) => {
      if (id !== 'PE') return;
      raw.partners[0]!.endpoint = partner.url;
      raw.outbound = { ...raw.outbound, pullIntervalMs: 100, reconcileIntervalMs: 0 };
    },
    env: { REDIS_URL: 'redis://127.0.0.1:1' },
  });
  disposals.push(async () => adminsOf.cleanup());
  const { store, dispose } = await openTestStore('postgres');
  disposals.push(dispose);
  gateways.push(
    await startGateway(adminsOf.get('PE').config, { store, log: createLogger('silent'), onceTimers }),
  );
  return partner;
}

let without: Partner;
let withTimers: Partner;

beforeAll(async () => {
  without = await start(false);
  withTimers = await start(true);
}, 60_000);

afterAll(async () => {
  for (const g of gateways) await g.close();
  for (const d of disposals.reverse()) await d();
  for (const p of partners) await new Promise<void>((resolve) => p.server.close(() => resolve()));
});

describe('timers a gateway runs once', () => {
  it('pulls partner feeds in the process given them, and in no other', async () => {
    // Three intervals of the gateway with the timers: both gateways have been up at least that long.
    await waitFor('three feed pulls', async () => (withTimers.feedRequests >= 3 ? true : undefined), 30_000);
    expect(without.feedRequests).toBe(0);
  });
});
