/**
 * A partner whose feed or snapshot answers are broken or hostile (I6, I7): CL's pull and reconciliation keep
 * running, say what was wrong, keep the cursor where it was, and stop a feed that never ends after a bounded
 * number of pages. The "partner" is a plain HTTP server on PE's configured port, serving canned answers.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_PULL_PAGES } from '../../src/inbound/pull.ts';
import { signRecord } from '../../src/publishing/sign-record.ts';
import type { TestAdmins } from '../support/admins.ts';
import { digestOfRecords, makeLinkedAdmins } from '../support/exchange.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { freshRecord } from '../support/records.ts';

type Handler = (url: URL, req: IncomingMessage) => { status: number; body: string };
let admins: TestAdmins;
let cl: TestGateway;
let fake: Server;
let answer: Handler = () => ({ status: 500, body: '' });
let requests = 0;

beforeAll(async () => {
  admins = await makeLinkedAdmins(['PE', 'CL'], {
    edit: (_id, raw) => {
      raw.outbound = { ...raw.outbound, batchSize: 2 };
    },
  });
  cl = await startTestGateway(admins.get('CL').config, 'embedded');
  const port = Number(new URL(admins.get('CL').config.partners[0]!.endpoint).port);
  fake = createServer((req: IncomingMessage, res: ServerResponse) => {
    requests += 1;
    const { status, body } = answer(new URL(req.url ?? '/', 'http://x'), req);
    res.writeHead(status, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => fake.listen(port, '127.0.0.1', resolve));
});
afterAll(async () => {
  await new Promise((resolve) => fake?.close(resolve));
  await cl?.close();
  admins.cleanup();
});

const json = (value: unknown, status = 200) => ({ status, body: JSON.stringify(value) });
const cursorAtCl = async () =>
  (await cl.store.query<{ cursor: string | null }>(`SELECT cursor FROM partner_feed WHERE partner = 'PE'`))[0]
    ?.cursor ?? null;
const pe = () => admins.get('PE').config.home.signers[0]!;

describe('a broken or hostile partner', () => {
  it('makes a pull fail with the reason, never the process, and leaves the cursor alone', async () => {
    answer = () => json({ records: [], next: 'c1' });
    expect(await cl.gateway.sync.pull('PE')).toMatchObject({ pages: 1, error: null, cursor: 'c1' });
    const cases: Record<string, [Handler, RegExp]> = {
      notJson: [() => ({ status: 200, body: '<html>' }), /not JSON/],
      notAnObject: [() => json([1, 2]), /records must be an array of strings/],
      recordsNotStrings: [() => json({ records: [1], next: 'c2' }), /records must be an array of strings/],
      tooMany: [() => json({ records: ['a', 'b', 'c'], next: 'c2' }), /3 records, 2 were asked/],
      noNext: [() => json({ records: [] }), /next must be a cursor/],
      hugeNext: [() => json({ records: [], next: 'n'.repeat(5000) }), /next must be a cursor/],
      problem: [
        () => json({ code: 'INTERNAL', detail: 'x'.repeat(2000) }, 500),
        /^feed: HTTP 500 INTERNAL: x+…$/,
      ],
    };
    for (const [name, [handler, reason]] of Object.entries(cases)) {
      answer = handler;
      const report = await cl.gateway.sync.pull('PE');
      expect(report.error, name).toMatch(reason);
      expect(report.error!.length, name).toBeLessThan(400);
      expect(await cursorAtCl(), name).toBe('c1');
    }
  });

  it('asks with a fresh request token from the saved cursor, and judges what it gets', async () => {
    const seen: { after: string | null; auth: string | undefined }[] = [];
    const good = await signRecord(freshRecord('PE'), pe());
    answer = (url, req) => {
      seen.push({ after: url.searchParams.get('after'), auth: req.headers.authorization });
      return json({ records: ['not a jws', good], next: 'c3' });
    };
    const first = await cl.gateway.sync.pull('PE');
    expect(first.records).toBe(2 * MAX_PULL_PAGES);
    expect(seen[0]!.after).toBe('c1');
    expect(seen[0]!.auth).toMatch(/^MRA [\w-]+\.[\w-]+\.[\w-]+$/);
    // Bounded: a partner whose pages are always full is left after MAX_PULL_PAGES, and asked again next run.
    expect(first.pages).toBe(MAX_PULL_PAGES);
    expect(first.caughtUp).toBe(false);
    expect(seen).toHaveLength(MAX_PULL_PAGES);
    expect(new Set(seen.map((s) => s.auth)).size, 'one token per request').toBe(MAX_PULL_PAGES);
    expect(first.outcomes).toEqual({
      'rejected:JWS_MALFORMED': MAX_PULL_PAGES,
      accepted: 1,
      duplicate: MAX_PULL_PAGES - 1,
    });
  });

  it('73: refuses a record with a date the store cannot hold alone, and pulls on past it', async () => {
    const year0 = await signRecord(freshRecord('PE', { statusSince: '0000-01-01' }), pe());
    const good = await signRecord(freshRecord('PE'), pe());
    const later = await signRecord(freshRecord('PE'), pe());
    const pages: Record<string, { records: string[]; next: string }> = {
      c1: { records: [year0, good], next: 'y1' },
      y1: { records: [later], next: 'y2' },
    };
    await cl.store.query(`UPDATE partner_feed SET cursor = 'c1' WHERE partner = 'PE'`);
    answer = (url) => json(pages[url.searchParams.get('after') ?? ''] ?? { records: [], next: 'none' });
    const report = await cl.gateway.sync.pull('PE');
    expect(report).toMatchObject({ error: null, pages: 2, records: 3, caughtUp: true, cursor: 'y2' });
    expect(report.outcomes).toEqual({ 'rejected:SCHEMA_INVALID': 1, accepted: 2 });
    expect(await cursorAtCl()).toBe('y2');
    // The next run starts after it: the rejected record does not block the feed.
    answer = (url) => json({ records: [], next: url.searchParams.get('after') ?? 'none' });
    expect(await cl.gateway.sync.pull('PE')).toMatchObject({ error: null, cursor: 'y2' });
  });

  it('78: refuses a feed page with a duplicate member, and keeps the cursor', async () => {
    await cl.store.query(`UPDATE partner_feed SET cursor = 'c1' WHERE partner = 'PE'`);
    answer = () => ({ status: 200, body: '{"records":[],"next":"c9","next":"c8"}' });
    const report = await cl.gateway.sync.pull('PE');
    expect(report.error).toMatch(/not JSON: duplicate member/);
    expect(await cursorAtCl()).toBe('c1');
  });

  it('reports a snapshot that does not hold together, whatever it claims', async () => {
    const records = await Promise.all([1, 2, 3].map(() => signRecord(freshRecord('PE'), pe())));
    const digest = digestOfRecords(records);
    const asOf = new Date().toISOString();
    const pageOf = (after: string | null, d: string, count = 3) => {
      const from = after === null ? 0 : Number(after);
      return json({ asOf, count, digest: d, records: records.slice(from, from + 2), next: String(from + 2) });
    };
    const cases: Record<string, [Handler, RegExp]> = {
      pagesDisagree: [
        (u) => pageOf(u.searchParams.get('after'), u.searchParams.has('after') ? '0'.repeat(64) : digest),
        /page 2 has another asOf, count or digest/,
      ],
      wrongDigest: [
        (u) => pageOf(u.searchParams.get('after'), 'a'.repeat(64)),
        /not the digest of the records sent/,
      ],
      countTooHigh: [
        (u) => pageOf(u.searchParams.get('after'), digest, 4),
        /3 records received, count says 4/,
      ],
      notRecords: [
        () => json({ asOf, count: 1, digest, records: ['x.y.z'], next: '1' }),
        /not an AEO status record/,
      ],
      badDigest: [
        () => json({ asOf, count: 0, digest: 'ABC', records: [], next: '0' }),
        /digest is not lowercase hex/,
      ],
      // 79, 73: a count or a moment beyond what the report can hold is refused, not stored.
      hugeCount: [
        () => json({ asOf, count: 2 ** 40, digest, records: [], next: '0' }),
        /count is not a count/,
      ],
      year0: [
        () => json({ asOf: '0000-01-01T00:00:00Z', count: 0, digest, records: [], next: '0' }),
        /asOf is not a timestamp/,
      ],
    };
    for (const [name, [handler, reason]] of Object.entries(cases)) {
      answer = handler;
      const report = await cl.gateway.sync.reconcile('PE');
      expect(report.inSync, name).toBe(false);
      expect(report.detail, name).toMatch(/^snapshot unusable: /);
      expect(report.detail, name).toMatch(reason);
    }
    // Well formed, it is compared: CL holds none of these three.
    answer = (u) => pageOf(u.searchParams.get('after'), digest);
    const report = await cl.gateway.sync.reconcile('PE');
    expect(report).toMatchObject({ inSync: false, partnerDigest: digest, partnerCount: 3 });
    expect(report.detail).toMatch(/operators differ/);
    expect(requests).toBeGreaterThan(0);
  });
});
