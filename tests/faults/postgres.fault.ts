/**
 * docs/threats.md 57 and 68 for real: a private PostgreSQL cluster stopped with `pg_ctl -m immediate` under a
 * gateway process taking a stream of partner batches, and a gateway process started before its database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnGateway, waitReady } from '../../bench/lib/gateway-process.ts';
import type { Receipt } from '../../src/protocol/receipt.ts';
import { openPostgres } from '../../src/store/postgres.ts';
import type { Store } from '../../src/store/types.ts';
import { makeAdmins, type TestAdmins } from '../support/admins.ts';
import { type ChildGateway, childGateway } from '../support/child-gateway.ts';
import { waitFor } from '../support/delivery.ts';
import { freePorts } from '../support/exchange.ts';
import { decodePayload, httpRequest, postTo } from '../support/gateway.ts';
import { type PrivatePostgres, startPrivatePostgres } from '../support/private-postgres.ts';
import { freshSigned } from '../support/records.ts';
import { pooled, report } from './report.ts';

let pg: PrivatePostgres;
let admins: TestAdmins;
let ports: [number, number];

beforeAll(async () => {
  pg = await startPrivatePostgres();
  ports = (await freePorts(2)) as [number, number];
  admins = makeAdmins(['PE', 'CL'], {
    edit: (id, raw) => {
      raw.outbound = { pullIntervalMs: 0, reconcileIntervalMs: 0 };
      if (id !== 'CL') return;
      raw.server = { ...raw.server, port: ports[0] };
      raw.api = { ...raw.api, port: ports[1] };
    },
  });
}, 180_000);
afterAll(() => {
  pg?.close();
  admins?.cleanup();
});

const BATCHES = 60;
const PER_BATCH = 5;

describe('PostgreSQL faults', () => {
  let cl: ChildGateway;
  let store: Store;
  afterAll(async () => {
    await cl?.kill();
    await store?.close();
  });

  it('G57 PostgreSQL stopped mid-request: 503 with Retry-After and no receipt; the retries store once', async () => {
    cl = childGateway({
      configPath: admins.get('CL').configPath,
      databaseUrl: pg.url,
      serverPort: ports[0],
      apiPort: ports[1],
      env: { LOG_LEVEL: 'silent' },
    });
    await cl.start();
    const signer = admins.get('PE').config.home.signers[0]!;
    const batches = await Promise.all(
      Array.from({ length: BATCHES }, () => freshSigned('PE', signer, PER_BATCH)),
    );
    const counts = {
      ok: 0,
      unavailable: 0,
      cut: 0,
      accepted: 0,
      duplicate: 0,
      noRetryAfter: 0,
      withReceipt: 0,
    };
    const receiptIds: string[] = [];
    let stopped = false;
    const outage = async () => {
      pg.stop();
      await new Promise((r) => setTimeout(r, 2_000));
      pg.start();
    };
    let outageDone: Promise<void> | undefined;
    await pooled(BATCHES, 3, async (i) => {
      const body = JSON.stringify({ records: batches[i]!.jws });
      for (let attempt = 0; attempt < 60; attempt += 1) {
        const res = await postTo(`${cl.url}/mra/v1/records`, body).catch(() => undefined);
        if (res === undefined) counts.cut += 1;
        else if (res.status === 200) {
          counts.ok += 1;
          const receipt = decodePayload((JSON.parse(res.text) as { receipt: string }).receipt) as Receipt;
          receiptIds.push(receipt.receiptId);
          for (const r of receipt.results) counts[r.outcome === 'accepted' ? 'accepted' : 'duplicate'] += 1;
          break;
        } else {
          expect(res.status, res.text.slice(0, 200)).toBe(503);
          counts.unavailable += 1;
          if (res.headers['retry-after'] === undefined) counts.noRetryAfter += 1;
          if (res.text.includes('receipt')) counts.withReceipt += 1;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
      if (!stopped && counts.ok >= BATCHES / 4) {
        stopped = true;
        outageDone = outage();
      }
    });
    await outageDone;
    store = openPostgres({ connectionString: pg.url });
    const stored = await store.query<{ record_id: string; n: string }>(
      'SELECT record_id::text, count(*)::text AS n FROM inbound_record GROUP BY record_id',
    );
    const all = batches.flatMap((b) => b.records.map((r) => r.recordId));
    const once = all.filter((id) => stored.find((s) => s.record_id === id)?.n === '1').length;
    // I2: every receipt the gateway gave names a committed receipt row.
    const [committed] = await store.query<{ n: string }>(
      'SELECT count(*)::text AS n FROM inbound_receipt WHERE receipt_id::text IN (SELECT jsonb_array_elements_text($1::jsonb))',
      [JSON.stringify(receiptIds)],
    );
    expect(counts.ok).toBe(BATCHES);
    expect(counts.unavailable + counts.cut).toBeGreaterThan(0);
    expect(counts.noRetryAfter).toBe(0);
    expect(counts.withReceipt).toBe(0);
    expect(Number(committed!.n)).toBe(BATCHES);
    expect(once).toBe(all.length);
    expect(stored.length).toBe(all.length);
    expect((await httpRequest(`${cl.url}/health/live`, { method: 'GET' })).status).toBe(200);
    report(
      'G57',
      `postgres stopped (pg_ctl -m immediate) mid-load: ${BATCHES} batches of ${PER_BATCH}, ${counts.unavailable} ` +
        `answered 503 with Retry-After and no receipt, ${counts.cut} connections cut, all retried: ` +
        `${counts.ok} receipts, each committed; ${once} of ${all.length} records stored once ` +
        `(${counts.accepted} accepted, ${counts.duplicate} duplicate on retry), 0 lost; process stayed up`,
    );
  });

  it('G68 PostgreSQL starting after the gateway: it waits, not ready, no crash loop, then serves', async () => {
    await cl.kill();
    pg.stop();
    const p = spawnGateway(admins.get('CL').configPath, { databaseUrl: pg.url, env: { LOG_LEVEL: 'error' } });
    try {
      const api = `http://127.0.0.1:${ports[1]}`;
      await waitReady(
        p.child,
        'gateway',
        async () => (await httpRequest(`${api}/health/live`, { method: 'GET' })).status === 200,
        60_000,
      );
      let notReady = 0;
      const waitedFrom = Date.now();
      for (let i = 0; i < 20; i += 1) {
        const ready = await httpRequest(`${api}/health/ready`, { method: 'GET' });
        expect(ready.status).toBe(503);
        notReady += 1;
        await new Promise((r) => setTimeout(r, 250));
      }
      const waited = Date.now() - waitedFrom;
      expect(p.child.exitCode).toBeNull();
      const pid = p.child.pid;
      const up = Date.now();
      pg.start();
      await waitFor(
        'ready after PostgreSQL came up',
        async () =>
          (await httpRequest(`${api}/health/ready`, { method: 'GET' }).catch(() => undefined))?.status === 200
            ? true
            : undefined,
        120_000,
        100,
      );
      const readyMs = Date.now() - up;
      const signer = admins.get('PE').config.home.signers[0]!;
      const { jws } = await freshSigned('PE', signer, 5);
      const res = await postTo(`http://127.0.0.1:${ports[0]}/mra/v1/records`, { records: jws });
      expect(res.status, res.text.slice(0, 200)).toBe(200);
      expect(p.child.pid).toBe(pid);
      expect(p.child.exitCode).toBeNull();
      report(
        'G68',
        `postgres started after the gateway: ${notReady} readiness probes over ${waited} ms answered 503, ` +
          `0 exits (one process throughout); ready ${readyMs} ms after PostgreSQL came up; a batch of 5 accepted`,
      );
    } finally {
      await p.stop();
    }
  });
});
