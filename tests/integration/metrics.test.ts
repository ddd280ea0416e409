/**
 * Prometheus metrics of a real gateway pair: PE publishes and pushes to CL over HTTP with Redis queues, CL's
 * border system looks an operator up; then both are scraped with a monitoring token. Every metric name the
 * Grafana dashboard in deploy/grafana queries is in the scrapes, and the ones that counted this work are
 * above zero. /metrics refuses a caller without a token (401) and a token without the monitoring scope (403);
 * the metrics listener of its own (metrics.port) answers without one. A webhook sent and a lookup of an
 * unknown operator are counted too.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Exchange, makeExchange, settledOutbox } from '../support/delivery.ts';
import { API_TOKENS, bearer, newAeoId, publish } from '../support/exchange.ts';
import { expectProblem, type HttpResponse, httpRequest } from '../support/gateway.ts';
import { apiGet, bearer as lookupBearer, makeLookupSetup, TOKENS, within } from '../support/lookup.ts';
import { freshRecord } from '../support/records.ts';
import { startReceiver } from '../support/webhook-receiver.ts';

const BORDER = randomBytes(32).toString('base64url');
const HEADERS_MS = 2_000;
const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

/** One sample of the text exposition: name, labels as written, value. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (m === null) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]!] = l[2]!;
    }
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

/** The sum of the samples of `name` whose labels include `where`. */
function total(samples: readonly Sample[], name: string, where: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

/** Every metric name the dashboard's queries use. */
function dashboardMetricNames(): string[] {
  const dashboard = JSON.parse(readFileSync('deploy/grafana/mra-gateway.json', 'utf8')) as {
    panels: { targets?: { expr: string }[] }[];
  };
  const names = new Set<string>();
  for (const panel of dashboard.panels) {
    for (const target of panel.targets ?? []) {
      // Metric names, not the functions and label names around them.
      for (const m of target.expr.matchAll(/\b((?:mra|process|nodejs)_[a-z0-9_]+)\b/g)) names.add(m[1]!);
    }
  }
  return [...names].sort();
}

let ex: Exchange;
const scrapes: Record<string, Sample[]> = {};

async function scrape(id: string, token: string | null = API_TOKENS.monitoring): Promise<HttpResponse> {
  return httpRequest(`${ex.gw(id).gateway.apiUrl}/metrics`, {
    method: 'GET',
    headers: token === null ? {} : bearer(token),
  });
}

beforeAll(async () => {
  ex = await makeExchange(['PE', 'CL'], {
    edit: (id, raw) => {
      raw.apiClients = [
        ...(raw.apiClients ?? []),
        { id: 'risk-engine', tokenSha256: sha256(BORDER), scopes: ['border'] },
      ];
      if (id === 'CL') {
        raw.metrics = { port: 0 };
        // The metrics listener takes the API listener's timeouts: this header timeout among them.
        raw.server = { ...raw.server, headersTimeoutMs: HEADERS_MS };
      }
    },
  });
  await ex.start('PE');
  await ex.start('CL');

  const a = newAeoId('PE');
  const b = newAeoId('PE');
  await publish(ex.gw('PE'), a);
  await publish(ex.gw('PE'), b);
  const rows = await settledOutbox(ex.store('PE'), 'CL', 2);
  expect(rows.map((r) => r.state)).toEqual(['delivered', 'delivered']);

  const lookup = await httpRequest(`${ex.gw('CL').gateway.apiUrl}/api/v1/operators/PE/${a}`, {
    method: 'GET',
    headers: bearer(BORDER),
  });
  expect(lookup.status, lookup.text.slice(0, 300)).toBe(200);
  expect((JSON.parse(lookup.text) as { recognised: boolean }).recognised).toBe(true);

  for (const id of ['PE', 'CL']) {
    const res = await scrape(id);
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    expect(String(res.headers['content-type'])).toMatch(/^text\/plain; version=0\.0\.4/);
    scrapes[id] = parseExposition(res.text);
  }
}, 120_000);

afterAll(() => ex?.close());

describe('GET /metrics', () => {
  it('has every metric the Grafana dashboard queries', () => {
    const present = new Set([...scrapes.PE!, ...scrapes.CL!].map((s) => s.name));
    const queried = dashboardMetricNames();
    expect(queried.length).toBeGreaterThan(15);
    const missing = queried.filter((name) => !present.has(name));
    console.log(`dashboard queries ${queried.length} metrics; ${present.size} names scraped`);
    expect(missing).toEqual([]);
  });

  it('counts the exchange on both sides', () => {
    const pe = scrapes.PE!;
    const cl = scrapes.CL!;
    expect(total(pe, 'mra_records_published_total')).toBe(2);
    expect(total(pe, 'mra_delivery_records_total', { partner: 'CL', result: 'delivered' })).toBe(2);
    expect(total(pe, 'mra_delivery_records_total', { partner: 'CL', result: 'sent' })).toBeGreaterThanOrEqual(
      2,
    );
    expect(total(pe, 'mra_delivery_duration_seconds_count', { partner: 'CL' })).toBeGreaterThan(0);
    expect(total(cl, 'mra_records_received_total', { partner: 'PE', outcome: 'accepted' })).toBe(2);
    expect(total(cl, 'mra_batches_received_total', { partner: 'PE' })).toBeGreaterThan(0);
    expect(total(cl, 'mra_receipts_signed_total', { partner: 'PE' })).toBeGreaterThan(0);
  });

  it('counts the lookup and shows the read model', () => {
    const cl = scrapes.CL!;
    expect(total(cl, 'mra_lookups_total', { outcome: 'recognised' })).toBe(1);
    expect(total(cl, 'mra_lookup_duration_seconds_count')).toBe(1);
    expect(total(cl, 'mra_read_model_operators', { partner: 'PE' })).toBe(2);
    const age = total(cl, 'mra_read_model_age_seconds', { partner: 'PE' });
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(600);
  });

  it('reads the queues, the database pool and the process at scrape time', () => {
    const pe = scrapes.PE!;
    const states = pe.filter((s) => s.name === 'mra_queue_jobs' && s.labels.queue === 'delivery-CL');
    expect(states.map((s) => s.labels.state).sort()).toEqual(['active', 'delayed', 'failed', 'waiting']);
    expect(pe.some((s) => s.name === 'mra_queue_jobs' && s.labels.queue === 'notifications')).toBe(true);
    const pool = pe.filter((s) => s.name === 'mra_store_pool_clients');
    expect(pool.map((s) => s.labels.state).sort()).toEqual(['idle', 'in_use', 'waiting']);
    expect(
      total(pe, 'mra_store_pool_clients', { state: 'idle' }) +
        total(pe, 'mra_store_pool_clients', { state: 'in_use' }),
    ).toBeGreaterThan(0);
    expect(total(pe, 'process_cpu_seconds_total')).toBeGreaterThan(0);
    const rss = total(pe, 'process_resident_memory_bytes');
    expect(rss).toBeGreaterThan(0);
    const main = total(pe, 'mra_heap_resident_bytes', { thread: 'main' });
    expect(main).toBeGreaterThan(0);
    expect(main).toBeLessThan(rss);
    // PE verified CL's signed receipts on the verification threads, whose heaps are counted apart.
    expect(total(pe, 'mra_heap_resident_bytes', { thread: 'verify' })).toBeGreaterThan(0);
  });

  it('refuses a caller without a token (401) and a token without the monitoring scope (403)', async () => {
    const none = await scrape('CL', null);
    expectProblem(none, 401, 'UNAUTHORIZED');
    expect(none.headers['www-authenticate']).toBe('Bearer');
    expectProblem(await scrape('CL', BORDER), 403, 'FORBIDDEN');
    expectProblem(await scrape('CL', API_TOKENS.publishOnly), 403, 'FORBIDDEN');
  });

  it('is also served without a token on the metrics listener of its own', async () => {
    const url = ex.gw('CL').gateway.metricsUrl;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await httpRequest(`${url}/metrics`, { method: 'GET' });
    expect(res.status).toBe(200);
    expect(total(parseExposition(res.text), 'mra_records_received_total', { partner: 'PE' })).toBe(2);
    expect(ex.gw('PE').gateway.metricsUrl).toBeUndefined();
  });

  it('closes a connection on the metrics listener whose request head never ends (header timeout)', async () => {
    const { hostname, port } = new URL(ex.gw('CL').gateway.metricsUrl!);
    const started = Date.now();
    const answer = await new Promise<string>((resolve) => {
      let text = '';
      const socket = connectTcp({ host: hostname, port: Number(port) }, () => {
        socket.write('GET /metrics HTTP/1.1\r\nHost: x\r\n');
      });
      // Bounded: a listener without the timeout would keep the socket open until this.
      const bound = setTimeout(() => socket.destroy(), 30_000);
      socket.on('data', (d) => {
        text += d.toString('latin1');
      });
      socket.on('error', () => {});
      socket.on('close', () => {
        clearTimeout(bound);
        resolve(text);
      });
    });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(HEADERS_MS - 200);
    expect(elapsed).toBeLessThan(20_000);
    expect(answer === '' || /^HTTP\/1\.1 408 /.test(answer)).toBe(true);
  });

  it('times only lookups that were made, and counts a refused request token once', async () => {
    const before = parseExposition((await scrape('CL')).text);
    const lookup = `${ex.gw('CL').gateway.apiUrl}/api/v1/operators/PE/${newAeoId('PE')}`;
    expectProblem(await httpRequest(lookup, { method: 'GET' }), 401, 'UNAUTHORIZED');
    expectProblem(
      await httpRequest(lookup, { method: 'GET', headers: bearer(API_TOKENS.publishOnly) }),
      403,
      'FORBIDDEN',
    );
    const feed = await httpRequest(`${ex.gw('CL').gateway.url}/mra/v1/feed`, {
      method: 'GET',
      headers: { authorization: 'MRA eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJQRSJ9.c2ln' },
    });
    expectProblem(feed, 401, 'UNAUTHORIZED');
    const after = parseExposition((await scrape('CL')).text);
    const delta = (name: string, where: Record<string, string> = {}) =>
      total(after, name, where) - total(before, name, where);
    expect(delta('mra_lookup_duration_seconds_count')).toBe(0);
    expect(delta('mra_partner_refusals_total', { reason: 'request-token' })).toBe(1);
    expect(delta('mra_partner_refusals_total', { reason: 'certificate' })).toBe(0);
  });
});

describe('notification metrics', () => {
  it('counts a webhook sent, and a lookup of an unknown operator by its reason', async () => {
    const setup = await makeLookupSetup();
    const receiver = await startReceiver();
    try {
      const gw = await setup.composed();
      const sub = await gw.api.post(
        '/api/v1/subscriptions',
        { url: receiver.url('/all') },
        {
          headers: lookupBearer(TOKENS.border),
        },
      );
      expect(sub.status, sub.text).toBe(201);
      await setup.send(gw, [freshRecord('CL')]);
      await within('the webhook', 60_000, async () => receiver.on('/all').length > 0);
      expect((await apiGet(gw, '/operators/CL/CLNOBODY1')).status).toBe(200);
      const scrapeIt = async () => {
        const res = await gw.api.request('/metrics', {
          method: 'GET',
          headers: lookupBearer(TOKENS.monitoring),
        });
        return parseExposition(res.text);
      };
      // The worker counts the webhook once its answer is recorded, just after the receiver got it.
      await within('the sent notification counted', 60_000, async () => {
        return total(await scrapeIt(), 'mra_notifications_total', { result: 'sent' }) >= 1;
      });
      const samples = await scrapeIt();
      expect(total(samples, 'mra_notifications_total', { result: 'sent' })).toBe(1);
      expect(total(samples, 'mra_notifications_total', { result: 'dead' })).toBe(0);
      expect(total(samples, 'mra_lookups_total', { outcome: 'unknown' })).toBe(1);
      expect(total(samples, 'mra_records_received_total', { partner: 'CL', outcome: 'accepted' })).toBe(1);
    } finally {
      await receiver.stop();
      await setup.close();
    }
  }, 120_000);
});
