/**
 * Every request has an id, in the X-Request-Id response header and in its log lines: the caller's own when it
 * is short and plain, a new UUID otherwise, on both listeners and on errors too. And logs are readable in
 * development (pino-pretty) while JSON stays the default.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { createLogger } from '../../src/log.ts';
import { makeAdmins, type TestAdmins } from '../support/admins.ts';
import type { HttpResponse } from '../support/gateway.ts';
import { composeTestGateway, type InjectedGateway } from '../support/inject.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const lines: Record<string, unknown>[] = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    for (const text of chunk.toString('utf8').split('\n')) {
      if (text !== '') lines.push(JSON.parse(text) as Record<string, unknown>);
    }
    done();
  },
});

let admins: TestAdmins;
let gw: InjectedGateway;

beforeAll(async () => {
  admins = makeAdmins(['PE', 'CL']);
  gw = await composeTestGateway(admins.get('PE').config, 'postgres', { log: createLogger('info', sink) });
}, 60_000);

afterAll(async () => {
  await gw?.close();
  admins?.cleanup();
});

const live = (headers: Record<string, string> = {}): Promise<HttpResponse> =>
  gw.api.request('/health/live', { method: 'GET', headers });
const idOf = (res: HttpResponse) => String(res.headers['x-request-id']);

describe('X-Request-Id', () => {
  it('is a new UUID for each request that brings none', async () => {
    const [a, b] = [await live(), await live()];
    expect(idOf(a)).toMatch(UUID);
    expect(idOf(b)).toMatch(UUID);
    expect(idOf(a)).not.toBe(idOf(b));
  });

  it("keeps the caller's id when it is short and plain, and names it in the request's log lines", async () => {
    const id = 'border-7f3a.2026:11_30';
    expect(idOf(await live({ 'x-request-id': id }))).toBe(id);
    const ofRequest = lines.filter((l) => l.reqId === id);
    expect(ofRequest.map((l) => l.msg)).toEqual(['incoming request', 'request completed']);
  });

  it.each([
    ['too long', 'a'.repeat(129)],
    ['with spaces', 'a b'],
    ['with markup', '<script>'],
    ['with a line break escape', 'a%0d%0aSet-Cookie:x'],
    ['empty', ''],
  ])('replaces an id that is %s', async (_name, given) => {
    const res = await live({ 'x-request-id': given });
    expect(idOf(res)).toMatch(UUID);
  });

  it('is on error answers and on the partner listener too', async () => {
    const missing = await gw.api.request('/api/v1/nothing-here', {
      method: 'GET',
      headers: { 'x-request-id': 'x-1' },
    });
    expect(missing.status).toBe(404);
    expect(idOf(missing)).toBe('x-1');
    const unauthorised = await gw.api.request('/api/v1/operators/CL/CL1', { method: 'GET' });
    expect(unauthorised.status).toBe(401);
    expect(idOf(unauthorised)).toMatch(UUID);
    const partner = await gw.partner.request('/mra/v1/feed', {
      method: 'GET',
      headers: { 'x-request-id': 'p-2' },
    });
    expect(partner.status).toBe(401);
    expect(idOf(partner)).toBe('p-2');
  });
});

describe('log format', () => {
  it('is JSON by default and readable with LOG_FORMAT=pretty or log.pretty', () => {
    const path = admins.get('PE').configPath;
    expect(loadConfig(path, { env: {} }).logPretty).toBe(false);
    expect(loadConfig(path, { env: { LOG_FORMAT: 'pretty' } }).logPretty).toBe(true);
    expect(loadConfig(path, { env: { LOG_FORMAT: 'json' } }).logPretty).toBe(false);

    const written: string[] = [];
    const out = new Writable({
      write(chunk: Buffer, _enc, done) {
        written.push(chunk.toString('utf8'));
        done();
      },
    });
    createLogger('info', out).info({ partner: 'CL' }, 'batch delivered');
    expect(JSON.parse(written.join('')) as Record<string, unknown>).toMatchObject({ msg: 'batch delivered' });
    written.length = 0;
    createLogger('info', out, true).warn({ partner: 'CL' }, 'batch dead-lettered');
    const text = written.join('');
    expect(() => JSON.parse(text)).toThrow();
    expect(text).toMatch(/^\[\d{2}:\d{2}:\d{2}\.\d{3}\] WARN: batch dead-lettered\n\s+partner: "CL"/);
  });
});
