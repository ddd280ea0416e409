/**
 * docs/threats.md A 3 to 8 over a real socket: media types, body and batch limits, slow headers, rate limits,
 * forwarded headers and prototype poisoning. Every error is a problem document and leaves no trace.
 */
import { connect } from 'node:net';
import { Readable } from 'node:stream';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BODY_LIMIT } from '../../src/http/app.ts';
import type { Receipt } from '../../src/protocol/receipt.ts';
import { makeAdmins, type TestAdmins } from '../support/admins.ts';
import {
  decodePayload,
  expectNoTrace,
  expectProblem,
  httpRequest,
  outcomes,
  startTestGateway,
  type TestGateway,
  tableCounts,
} from '../support/gateway.ts';
import { freshRecord, freshSigned, signAll } from '../support/records.ts';

const RATE_LIMIT = 4;
let admins: TestAdmins;
let gw: TestGateway;
/** A second receiver with a small rate limit and a short header timeout. */
let strict: TestGateway;
const pe = () => admins.get('PE').config.home.signers[0]!;

beforeAll(async () => {
  admins = makeAdmins(['EU', 'PE'], {
    edit: (id, raw) => {
      if (id === 'PE') raw.server = { ...raw.server, rateLimitPerMinute: RATE_LIMIT, headersTimeoutMs: 1000 };
    },
  });
  gw = await startTestGateway(admins.get('EU').config, 'embedded');
  strict = await startTestGateway(admins.get('PE').config, 'embedded', { store: gw.store });
});
afterAll(async () => {
  await strict?.close();
  await gw?.close();
  admins.cleanup();
});

describe('media types (A 3)', () => {
  it.each(['text/plain', 'application/jose', 'application/json-seq', 'application/json; charset=latin1', ''])(
    'refuses %j with 415 and no trace',
    async (type) => {
      const { records, jws } = await freshSigned('PE', pe());
      const before = await tableCounts(gw.store);
      const res = await gw.post({ records: jws }, { contentType: type });
      expectProblem(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
      await expectNoTrace(gw.store, before, { recordIds: [records[0]!.recordId] });
      expect((await tableCounts(gw.store)).inbound_receipt).toBe(before.inbound_receipt);
    },
  );

  it.each([
    'Application/JSON',
    'application/json; charset=utf-8',
    'APPLICATION/JSON;charset=UTF-8',
    ' application/json\t',
  ])('handles %j exactly as application/json, validation included', async (type) => {
    const good = freshRecord('PE');
    const late = freshRecord('PE', { issuedAt: new Date(Date.now() + 3_600_000).toISOString() });
    const jws = await signAll([good, late], pe());
    const res = await gw.post({ records: jws }, { contentType: type });
    expect(res.status, res.text).toBe(200);
    const receipt = decodePayload((JSON.parse(res.text) as { receipt: string }).receipt) as Receipt;
    expect(outcomes(receipt.results)).toEqual(['accepted', 'rejected:ISSUED_IN_FUTURE']);
    const again = await gw.send(jws);
    expect(outcomes(again.results)).toEqual(['duplicate', 'rejected:ISSUED_IN_FUTURE']);
    expectProblem(await gw.post({ records: 'x' }, { contentType: type }), 400, 'BODY_INVALID');
  });
});

describe('body and batch limits (A 4)', () => {
  const bodyOf = (size: number) => {
    const head = '{"records":["';
    const tail = '"]}';
    return head + 'a'.repeat(size - head.length - tail.length) + tail;
  };

  it('refuses a body one byte over 10 MiB with 413 and keeps serving', async () => {
    const over = bodyOf(BODY_LIMIT + 1);
    expect(Buffer.byteLength(over)).toBe(BODY_LIMIT + 1);
    const before = await tableCounts(gw.store);
    expectProblem(await gw.post(over), 413, 'BODY_TOO_LARGE');
    const { jws } = await freshSigned('PE', pe());
    expect(outcomes((await gw.send(jws)).results)).toEqual(['accepted']);
    expect((await httpRequest(`${gw.url}/health/live`, { method: 'GET' })).status).toBe(200);
    expect((await tableCounts(gw.store)).inbound_record).toBe(before.inbound_record + 1);
  });

  it('refuses a chunked body (no Content-Length) that grows past 10 MiB with 413', async () => {
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    async function* body() {
      yield Buffer.from('{"records":["');
      for (let i = 0; i < 11; i++) yield chunk;
      yield Buffer.from('"]}');
    }
    const res = await request(`${gw.url}/mra/v1/records`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Readable.from(body()),
      headersTimeout: 20_000,
      bodyTimeout: 20_000,
    });
    expectProblem(
      { status: res.statusCode, headers: res.headers, text: await res.body.text() },
      413,
      'BODY_TOO_LARGE',
    );
    expect((await httpRequest(`${gw.url}/health/live`, { method: 'GET' })).status).toBe(200);
    const { jws } = await freshSigned('PE', pe());
    expect(outcomes((await gw.send(jws)).results)).toEqual(['accepted']);
  });

  it('takes a body of exactly 10 MiB and judges its oversized record alone', async () => {
    const res = await gw.post(bodyOf(BODY_LIMIT));
    expect(res.status).toBe(200);
    const receipt = decodePayload((JSON.parse(res.text) as { receipt: string }).receipt) as Receipt;
    expect(outcomes(receipt.results)).toEqual(['rejected:JWS_MALFORMED']);
  });

  it('refuses 1,001 records with 400 and answers 1,000 with 1,000 results', async () => {
    const before = await tableCounts(gw.store);
    expectProblem(await gw.post({ records: Array(1001).fill('x') }), 400, 'BODY_INVALID');
    await expectNoTrace(gw.store, before);
    const { results } = await gw.send(Array(1000).fill('x'));
    expect(results).toHaveLength(1000);
    expect(new Set(outcomes(results))).toEqual(new Set(['rejected:JWS_MALFORMED']));
  });

  it.each([
    ['an empty batch', { records: [] }],
    ['a missing records member', {}],
    ['a non-string record', { records: [1] }],
    ['an extra member', { records: ['x'], receivedAt: 'now' }],
    ['a JSON array', [['x']]],
    ['invalid JSON', '{"records":['],
    ['an empty body', ''],
  ])('refuses %s with a 400 problem', async (_name, body) => {
    expectProblem(await gw.post(body), 400, 'BODY_INVALID');
  });
});

describe('prototype poisoning (A 8)', () => {
  it.each([
    '{"__proto__":{"records":["x"]}}',
    '{"records":["x"],"__proto__":{"polluted":true}}',
    '{"constructor":{"prototype":{"polluted":true}}}',
    '{"records":["x"],"constructor":{"prototype":{"records":["y"]}}}',
  ])('refuses %s with a 400 problem', async (body) => {
    const before = await tableCounts(gw.store);
    expectProblem(await gw.post(body), 400, 'BODY_INVALID');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await tableCounts(gw.store)).inbound_receipt).toBe(before.inbound_receipt);
  });
});

describe('slow headers (A 5)', () => {
  it('closes a connection whose headers are dribbled one byte a second', async () => {
    const { port } = new URL(strict.url);
    const request = 'POST /mra/v1/records HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n';
    const started = Date.now();
    const socket = connect({ host: '127.0.0.1', port: Number(port) });
    let sent = 0;
    let received = '';
    socket.on('data', (d) => {
      received += d.toString('latin1');
    });
    const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now() - started)));
    socket.on('error', () => {});
    const timer = setInterval(() => {
      if (sent < request.length && !socket.destroyed) socket.write(request[sent++]!);
    }, 1000);
    // The header timeout is 1 s; the bounds are generous for a loaded machine (docs/threats.md 80): what matters is
    // that the server closed the connection long before the dribbled headers were complete.
    const bound = new Promise<'bound'>((resolve) => setTimeout(() => resolve('bound'), 30_000));
    const result = await Promise.race([closed, bound]);
    clearInterval(timer);
    socket.destroy();
    expect(result).not.toBe('bound');
    expect(result as number).toBeLessThan(20_000);
    expect(sent).toBeLessThan(Math.min(21, request.length));
    expectRawProblem(received, 408, 'REQUEST_TIMEOUT');
  }, 180_000);
});

describe('rate limit (A 6, 7)', () => {
  const postFrom = async (localAddress: string, forwardedFor?: string) => {
    const agent = new Agent({ localAddress });
    try {
      return await strict.post(
        { records: ['x'] },
        { dispatcher: agent, headers: forwardedFor ? { 'x-forwarded-for': forwardedFor } : {} },
      );
    } finally {
      await agent.close();
    }
  };

  it('answers 429 with Retry-After over the limit, whatever X-Forwarded-For says; other clients are served', async () => {
    for (let i = 0; i < RATE_LIMIT; i++) {
      expect((await postFrom('127.0.0.1', `198.51.100.${i}`)).status).toBe(200);
    }
    for (const xff of ['203.0.113.7', '127.0.0.9', '10.0.0.1, 10.0.0.2']) {
      const res = await postFrom('127.0.0.1', xff);
      expectProblem(res, 429, 'RATE_LIMITED');
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    }
    // Another address (another partner, without mTLS) still gets its own allowance.
    expect((await postFrom('127.0.0.2')).status).toBe(200);
    // Health checks are never limited.
    expect((await httpRequest(`${strict.url}/health/ready`, { method: 'GET' })).status).toBe(200);
  });
});

describe('forwarded headers (A 7)', () => {
  it('does not let X-Forwarded-Host or -Proto change what .well-known announces', async () => {
    const res = await httpRequest(`${gw.url}/mra/v1/.well-known/mra-gateway`, {
      method: 'GET',
      headers: {
        'x-forwarded-host': 'evil.example',
        'x-forwarded-proto': 'https',
        forwarded: 'host=evil.example',
      },
    });
    expect(res.status).toBe(200);
    const meta = JSON.parse(res.text) as { endpoints: { records: string } };
    expect(meta.endpoints.records).toBe(`${gw.url}/mra/v1/records`);
  });
});

describe('problem documents', () => {
  it.each([
    [
      'a URL that cannot be decoded',
      'GET /mra/v1/%E0%A4%A HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      400,
      'BAD_REQUEST',
    ],
    ['a request line that is not HTTP', 'GARBAGE\r\n\r\n', 400, 'BAD_REQUEST'],
    [
      'a Content-Length that is not a number',
      'POST /mra/v1/records HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n{}',
      400,
      'BAD_REQUEST',
    ],
    [
      'both Content-Length and Transfer-Encoding',
      'POST /mra/v1/records HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      400,
      'BAD_REQUEST',
    ],
    [
      'headers over 16 KiB',
      `GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      431,
      'HEADERS_TOO_LARGE',
    ],
  ])('answers %s with a problem document', async (_name, text, status, code) => {
    expectRawProblem(await rawExchange(gw, text), status, code);
    expect((await httpRequest(`${gw.url}/health/live`, { method: 'GET' })).status).toBe(200);
  });

  it('answers unknown routes and methods with a 404 problem', async () => {
    expectProblem(await httpRequest(`${gw.url}/mra/v1/nothing`, { method: 'GET' }), 404, 'NOT_FOUND');
    expectProblem(await httpRequest(`${gw.url}/mra/v1/records`, { method: 'GET' }), 404, 'NOT_FOUND');
  });
});

/** Writes `text` on a fresh connection and returns all that comes back until the server closes (at most 5 s). */
function rawExchange(target: TestGateway, text: string): Promise<string> {
  const { port } = new URL(target.url);
  return new Promise((resolve) => {
    let received = '';
    const socket = connect({ host: '127.0.0.1', port: Number(port) }, () => socket.write(text));
    const bound = setTimeout(() => socket.destroy(), 5000);
    socket.on('data', (d) => {
      received += d.toString('latin1');
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(bound);
      resolve(received);
    });
  });
}

/** A raw HTTP response that is a problem document with this status and code. */
function expectRawProblem(raw: string, status: number, code: string): void {
  const [head = '', body = ''] = raw.split('\r\n\r\n');
  expect(head.split('\r\n')[0]).toMatch(new RegExp(`^HTTP/1.1 ${status} `));
  expect(head.toLowerCase()).toContain('content-type: application/problem+json');
  expectProblem(
    { status, headers: { 'content-type': 'application/problem+json' }, text: body },
    status,
    code,
  );
}
