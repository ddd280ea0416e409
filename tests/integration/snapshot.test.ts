/**
 * `GET /mra/v1/snapshot` through the HTTP app, on PostgreSQL and on the embedded store: the latest record of every
 * operator shared with the caller, paged by aeoId; every page carries the asOf, count and digest of the whole
 * snapshot, and the digest is the one docs/protocol.md defines, computed here independently from the records.
 * Paging stays on one snapshot while new records commit.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestAdmins } from '../support/admins.ts';
import {
  digestOfRecords,
  getPage,
  getPartnerRoute,
  makeLinkedAdmins,
  newAeoId,
  type PageBody,
  payloadOf,
  publish,
  requestToken,
} from '../support/exchange.ts';
import { expectProblem, STORE_KINDS } from '../support/gateway.ts';
import { composeTestGateway, type InjectedGateway } from '../support/inject.ts';

let admins: TestAdmins;
beforeAll(async () => {
  // PE's MRA with EU covers AEO-S only: EU's snapshot is a strict part of CL's.
  admins = await makeLinkedAdmins(['PE', 'CL', 'EU'], {
    edit: (id, raw) => {
      if (id !== 'PE') return;
      for (const p of raw.partners) if (p.adminId === 'EU') p.mra.scope.programmes = ['AEO-S'];
    },
  });
});
afterAll(() => admins.cleanup());

const EMPTY_DIGEST = createHash('sha256').update('').digest('hex');
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64url');

describe.each(STORE_KINDS)('snapshot on %s', (kind) => {
  let pe: InjectedGateway;
  beforeAll(async () => {
    pe = await composeTestGateway(admins.get('PE').config, kind);
  });
  afterAll(() => pe?.close());

  /** Every page of one snapshot, `limit` at a time, from `first` (already read) on; bounded. */
  async function rest(partner: string, first: PageBody, limit: number): Promise<PageBody[]> {
    const pages = [first];
    for (let i = 0; i < 50 && pages.at(-1)!.records.length > 0; i += 1) {
      pages.push(await getPage(pe, admins, partner, `/snapshot?after=${pages.at(-1)!.next}&limit=${limit}`));
    }
    expect(pages.at(-1)!.records).toEqual([]);
    return pages;
  }
  const whole = async (partner: string, limit: number) =>
    rest(partner, await getPage(pe, admins, partner, `/snapshot?limit=${limit}`), limit);
  /** What PE's store says is the latest record shared with `partner` per operator. */
  async function latestShared(partner: string): Promise<string[]> {
    const rows = await pe.store.query<{ jws: string }>(
      `SELECT DISTINCT ON (h.aeo_id) h.jws FROM home_record h JOIN outbox o ON o.record_seq = h.seq
        WHERE o.partner = $1 ORDER BY h.aeo_id, h.version DESC`,
      [partner],
    );
    return rows.map((r) => r.jws).sort();
  }

  it('is empty, with the digest of no lines, before anything is shared', async () => {
    const page = await getPage(pe, admins, 'EU', '/snapshot');
    expect(page).toMatchObject({ records: [], count: 0, digest: EMPTY_DIGEST });
    expect(Date.parse(page.asOf!)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('gives every page one asOf, count and digest: the digest of the latest records', async () => {
    const ids = Array.from({ length: 5 }, () => newAeoId('PE'));
    for (const id of ids) await publish(pe, id);
    for (const id of ids.slice(0, 2)) await publish(pe, id, { decision: 'suspend' });

    const pages = await whole('CL', 2);
    expect(pages.map((p) => p.records.length)).toEqual([2, 2, 1, 0]);
    const { asOf, count, digest } = pages[0]!;
    for (const p of pages)
      expect({ asOf: p.asOf, count: p.count, digest: p.digest }).toEqual({ asOf, count, digest });
    const records = pages.flatMap((p) => p.records);
    expect(count).toBe(5);
    expect(records.sort()).toEqual(await latestShared('CL'));
    // Ordered by aeoId, bytewise, each operator once, at its latest version.
    const aeoIds = pages.flatMap((p) => p.records.map((r) => payloadOf(r).operator.aeoId));
    expect(aeoIds).toEqual([...ids].sort());
    const versions = Object.fromEntries(
      records.map((r) => [payloadOf(r).operator.aeoId, payloadOf(r).version]),
    );
    expect(ids.map((id) => versions[id])).toEqual([2, 2, 1, 1, 1]);
    expect(digest).toBe(digestOfRecords(records));
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it('stays one snapshot while new records commit between its pages', async () => {
    const first = await getPage(pe, admins, 'CL', '/snapshot?limit=2');
    const before = (await whole('CL', 1000)).flatMap((p) => p.records);
    const changed = payloadOf(before[0]!).operator.aeoId;
    const added = newAeoId('PE');
    await publish(pe, added);
    await publish(pe, changed, { decision: 'revoke' });

    const pages = await rest('CL', first, 2);
    for (const p of pages)
      expect([p.asOf, p.count, p.digest]).toEqual([first.asOf, first.count, first.digest]);
    const records = pages.flatMap((p) => p.records);
    expect(records.sort()).toEqual([...before].sort());
    expect(digestOfRecords(records)).toBe(first.digest);

    // A new snapshot sees both commits.
    const now = await whole('CL', 1000);
    const latest = now.flatMap((p) => p.records);
    expect(now[0]!.count).toBe(first.count! + 1);
    expect(now[0]!.digest).not.toBe(first.digest);
    expect(now[0]!.digest).toBe(digestOfRecords(latest));
    expect(Date.parse(now[0]!.asOf!)).toBeGreaterThanOrEqual(Date.parse(first.asOf!));
    expect(latest.map((r) => payloadOf(r).operator.aeoId)).toContain(added);
    expect(latest.sort()).toEqual(await latestShared('CL'));
  });

  it("holds only what the partner's MRA shares with it", async () => {
    const security = newAeoId('PE');
    await publish(pe, security, { programme: 'AEO-S' });
    await publish(pe, newAeoId('PE'), { programme: 'AEO-C' });
    const eu = (await whole('EU', 1)).flatMap((p) => p.records);
    expect(eu.map((r) => payloadOf(r).operator.aeoId)).toEqual([security]);
    const cl = (await whole('CL', 1000)).flatMap((p) => p.records);
    expect(cl.length).toBeGreaterThan(eu.length);
    expect(cl).toEqual(expect.arrayContaining(eu));
  });

  it('answers a cursor it did not write with 400 BAD_REQUEST', async () => {
    const [hw] = await pe.store.query<{ n: string }>('SELECT max(seq)::text AS n FROM home_record');
    const cursors = {
      feedCursor: b64('feed/1:1'),
      aboveHighWater: b64(`snapshot/1:${BigInt(hw!.n) + 10n}:0:`),
      lowerCaseAeoId: b64('snapshot/1:1:0:peop1'),
      notBase64url: 'c25h*',
    };
    const cl = admins.get('CL').config.home.signers[0]!;
    for (const [name, after] of Object.entries(cursors)) {
      const jws = await requestToken(cl, 'CL', 'PE');
      const res = await getPartnerRoute(pe, `/snapshot?after=${after}`, `MRA ${jws}`);
      expect(expectProblem(res, 400, 'BAD_REQUEST').detail, name).toMatch(/snapshot/);
    }
  });
});
