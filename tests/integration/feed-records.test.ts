/**
 * `GET /mra/v1/feed` through the HTTP app, on PostgreSQL and on the embedded store: the records published to the
 * calling partner, in commit order, paged by opaque cursors; only what the partner's MRA shares with it; and
 * a 400 problem for a cursor or limit the gateway did not write.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RECORD_PROFILE } from '../../src/crypto/compact-jws.ts';
import { verifySignedObject } from '../../src/crypto/verify-signed.ts';
import type { Partner } from '../../src/mra/types.ts';
import type { TestAdmins } from '../support/admins.ts';
import {
  getPage,
  getPartnerRoute,
  makeLinkedAdmins,
  newAeoId,
  payloadOf,
  publish,
  requestToken,
} from '../support/exchange.ts';
import { expectProblem, STORE_KINDS } from '../support/gateway.ts';
import { composeTestGateway, type InjectedGateway } from '../support/inject.ts';

let admins: TestAdmins;
beforeAll(async () => {
  // PE's MRA with EU covers AEO-S only, so PE's default AEO-F records are shared with CL and not with EU.
  admins = await makeLinkedAdmins(['PE', 'CL', 'EU'], {
    edit: (id, raw) => {
      if (id !== 'PE') return;
      for (const p of raw.partners) if (p.adminId === 'EU') p.mra.scope.programmes = ['AEO-S'];
    },
  });
});
afterAll(() => admins.cleanup());

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64url');

describe.each(STORE_KINDS)('feed on %s', (kind) => {
  let pe: InjectedGateway;
  beforeAll(async () => {
    pe = await composeTestGateway(admins.get('PE').config, kind);
  });
  afterAll(() => pe?.close());

  const peAt = (partner: string): Partner =>
    admins.get(partner).config.partners.find((p) => p.adminId === 'PE')!;
  /** Every page from `after` to the end, `limit` at a time; bounded. */
  async function readAll(partner: string, after: string, limit: number) {
    const pages: string[][] = [];
    let cursor = after;
    for (let i = 0; i < 50; i += 1) {
      const page = await getPage(pe, admins, partner, `/feed?after=${cursor}&limit=${limit}`);
      pages.push(page.records);
      if (page.records.length === 0) {
        expect(page.next, 'an empty page leaves the cursor where it was').toBe(cursor);
        return { pages, next: cursor };
      }
      cursor = page.next;
    }
    throw new Error('the feed did not end');
  }

  it('serves the records shared with the caller in commit order, page by page', async () => {
    const start = await getPage(pe, admins, 'CL', '/feed');
    expect(start.records).toEqual([]);
    const ids = [newAeoId('PE'), newAeoId('PE'), newAeoId('PE'), newAeoId('PE'), newAeoId('PE')];
    for (const id of ids) await publish(pe, id);
    await publish(pe, ids[0]!, { decision: 'suspend' });

    const { pages } = await readAll('CL', start.next, 2);
    expect(pages.map((p) => p.length)).toEqual([2, 2, 2, 0]);
    const records = pages.flat();
    expect(records.map((r) => [payloadOf(r).operator.aeoId, payloadOf(r).version])).toEqual([
      ...ids.map((id) => [id, 1]),
      [ids[0], 2],
    ]);
    // Byte for byte what PE signed and committed, in seq order.
    const held = await pe.store.query<{ jws: string }>(
      `SELECT h.jws FROM home_record h JOIN outbox o ON o.record_seq = h.seq
        WHERE o.partner = 'CL' ORDER BY h.seq`,
    );
    expect(records).toEqual(held.map((r) => r.jws));
    for (const jws of records) {
      const v = await verifySignedObject(jws, {
        profile: RECORD_PROFILE,
        stores: [peAt('CL').trust],
        at: new Date(),
      });
      expect(v.ok && v.signer).toBe('PE');
    }
    // Without a limit, one page of up to 500 holds them all.
    expect((await getPage(pe, admins, 'CL', `/feed?after=${start.next}`)).records).toEqual(records);
  });

  it('resumes from a cursor with exactly the records committed after it', async () => {
    const { next } = await readAll('CL', (await getPage(pe, admins, 'CL', '/feed')).next, 1000);
    const later = [newAeoId('PE'), newAeoId('PE')];
    for (const id of later) await publish(pe, id);
    const page = await getPage(pe, admins, 'CL', `/feed?after=${next}&limit=10`);
    expect(page.records.map((r) => payloadOf(r).operator.aeoId)).toEqual(later);
    expect((await getPage(pe, admins, 'CL', `/feed?after=${page.next}`)).records).toEqual([]);
  });

  it('shows a partner only the records its MRA shares with it', async () => {
    const euStart = (await readAll('EU', (await getPage(pe, admins, 'EU', '/feed')).next, 1000)).next;
    const clStart = (await readAll('CL', (await getPage(pe, admins, 'CL', '/feed')).next, 1000)).next;
    const full = newAeoId('PE');
    const security = newAeoId('PE');
    expect((await publish(pe, full)).record?.partners).toEqual(['CL']);
    expect((await publish(pe, security, { programme: 'AEO-S' })).record?.partners).toEqual(['CL', 'EU']);

    const eu = (await readAll('EU', euStart, 10)).pages.flat();
    const cl = (await readAll('CL', clStart, 10)).pages.flat();
    expect(eu.map((r) => payloadOf(r).operator.aeoId)).toEqual([security]);
    expect(cl.map((r) => payloadOf(r).operator.aeoId)).toEqual([full, security]);
    // From the very beginning, nothing outside EU's scope ever reached EU's feed.
    const everything = (await getPage(pe, admins, 'EU', '/feed?limit=1000')).records;
    expect(everything.length).toBeGreaterThan(0);
    for (const jws of everything)
      expect(JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString()).programme).toBe('AEO-S');
  });

  it('answers a cursor or limit it did not write with 400 BAD_REQUEST', async () => {
    const queries = {
      limitZero: 'limit=0',
      limitOverMax: 'limit=1001',
      limitText: 'limit=ten',
      limitNegative: 'limit=-1',
      limitFraction: 'limit=1.5',
      afterEmpty: 'after=',
      afterNotBase64url: 'after=%21%21%21',
      afterPadded: `after=${b64('feed/1:1')}%3D%3D`,
      afterSnapshotCursor: `after=${b64('snapshot/1:1:0:')}`,
      afterLeadingZero: `after=${b64('feed/1:01')}`,
      afterOtherVersion: `after=${b64('feed/2:5')}`,
      afterTwice: `after=${b64('feed/1:1')}&after=${b64('feed/1:2')}`,
      unknownParameter: 'since=0',
    };
    const cl = admins.get('CL').config.home.signers[0]!;
    for (const [name, query] of Object.entries(queries)) {
      const res = await getPartnerRoute(pe, `/feed?${query}`, `MRA ${await requestToken(cl, 'CL', 'PE')}`);
      const problem = expectProblem(res, 400, 'BAD_REQUEST');
      expect(problem.detail, name).toMatch(/limit|after|querystring/);
    }
    // Without a token the query is not even looked at.
    expectProblem(await getPartnerRoute(pe, '/feed?limit=0', undefined), 401, 'UNAUTHORIZED');
  });
});
