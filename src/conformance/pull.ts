/**
 * Reading the target (docs/protocol.md, Request tokens, `GET /feed`, `GET /snapshot`): pages with a fresh
 * request token each, cursors, the end of the feed, refusals as problem documents; every record signed by the
 * target; the snapshot digest recomputed by the project's own code equal to the one advertised.
 */

import { RECORD_PROFILE } from '../crypto/compact-jws.ts';
import { recordDigest } from '../crypto/digest.ts';
import { verifySignedObject } from '../crypto/verify-signed.ts';
import { signRequestToken } from '../partner-client/request-token.ts';
import type { AeoStatusRecord } from '../protocol/record.ts';
import { type SnapshotLine, snapshotDigest } from '../protocol/snapshot-digest.ts';
import { type Kit, Results, type Section } from './types.ts';
import { describe, problemMismatch, WireFailure, type WireResponse } from './wire.ts';

/** Page size the kit asks for: small, so that a few records make several pages. */
const PAGE = 2;
/** At most this many pages are read per check: the kit's run stays bounded on a large target. */
const MAX_PAGES = 50;

export function token(kit: Kit): Promise<string> {
  return signRequestToken(kit.signer, { iss: kit.home, aud: kit.target.adminId });
}

export async function get(
  kit: Kit,
  path: string,
  auth: string | null | 'token',
): Promise<WireResponse | WireFailure> {
  try {
    const authorization = auth === 'token' ? `MRA ${await token(kit)}` : auth;
    return await kit.wire.send({
      method: 'GET',
      path,
      headers: authorization === null ? {} : { authorization, accept: 'application/json' },
    });
  } catch (error) {
    return error instanceof WireFailure ? error : new WireFailure('ERROR', String(error));
  }
}

export const gotOf = (r: WireResponse | WireFailure) =>
  r instanceof WireFailure ? `no answer: ${r.message}` : describe(r);

export function problemOf(r: WireResponse | WireFailure, status: number, code: string): string | undefined {
  if (r instanceof WireFailure) return gotOf(r);
  const p = problemMismatch(r, status, code);
  if (p !== undefined || status !== 401) return p;
  const challenge = r.headers['www-authenticate'];
  return typeof challenge === 'string' && /^MRA\b/i.test(challenge)
    ? undefined
    : `${describe(r)} without WWW-Authenticate: MRA`;
}

interface Page {
  records: string[];
  next: string;
  asOf?: unknown;
  count?: unknown;
  digest?: unknown;
}

/** Why `r` is not a page of `kind`, or undefined. */
function pageProblem(r: WireResponse | WireFailure, kind: 'feed' | 'snapshot'): string | undefined {
  if (r instanceof WireFailure || r.status !== 200) return gotOf(r);
  const b = r.json as Record<string, unknown> | undefined;
  if (b === undefined) return `${describe(r)}: not JSON (${r.jsonError})`;
  if (!Array.isArray(b.records) || !b.records.every((x) => typeof x === 'string'))
    return 'records is not an array of strings';
  if (typeof b.next !== 'string') return 'next is missing';
  if (kind === 'snapshot') {
    if (
      typeof b.asOf !== 'string' ||
      !Number.isInteger(b.count) ||
      typeof b.digest !== 'string' ||
      !/^[0-9a-f]{64}$/.test(b.digest)
    ) {
      return 'asOf, count or digest missing or malformed';
    }
  }
  return undefined;
}

/** Reads pages of `kind` from the beginning until the end; each page must be one. */
async function readAll(
  kit: Kit,
  kind: 'feed' | 'snapshot',
): Promise<{ pages: Page[]; problem: string | undefined }> {
  const pages: Page[] = [];
  let after: string | undefined;
  for (let i = 0; i < MAX_PAGES; i += 1) {
    const query = `?limit=${PAGE}${after === undefined ? '' : `&after=${encodeURIComponent(after)}`}`;
    const r = await get(kit, `/${kind}${query}`, 'token');
    const problem = pageProblem(r, kind);
    if (problem !== undefined) return { pages, problem: `page ${i + 1}: ${problem}` };
    const page = (r as WireResponse).json as Page;
    pages.push(page);
    const total = kind === 'snapshot' ? Number(page.count) : Number.POSITIVE_INFINITY;
    const held = pages.reduce((n, p) => n + p.records.length, 0);
    if (page.records.length === 0 || (kind === 'feed' && page.records.length < PAGE) || held >= total) break;
    after = page.next;
  }
  return { pages, problem: undefined };
}

/** Each record verified under the target's anchors and naming the target as issuer; their payloads. */
async function verifyRecords(
  kit: Kit,
  records: readonly string[],
): Promise<{ payloads: AeoStatusRecord[]; problem: string | undefined }> {
  const payloads: AeoStatusRecord[] = [];
  for (const [i, jws] of records.entries()) {
    const v = await verifySignedObject(jws, {
      profile: RECORD_PROFILE,
      stores: [kit.target.trust],
      at: new Date(),
    });
    if (!v.ok) return { payloads, problem: `record ${i}: ${v.code}: ${v.detail}` };
    const p = v.payload as AeoStatusRecord;
    if (p.issuer !== kit.target.adminId)
      return { payloads, problem: `record ${i}: issuer ${String(p.issuer)}` };
    payloads.push(p);
  }
  return { payloads, problem: undefined };
}

/** Refusals every reading route shares: no token, a replayed token, a bad cursor, a bad limit, a foreign parameter. */
async function refusals(kit: Kit, out: Results, path: string, maxLimit: number): Promise<void> {
  const none = await get(kit, `${path}?limit=1`, null);
  out.judge(
    'no-token',
    `GET ${path} without Authorization`,
    '401 UNAUTHORIZED problem, WWW-Authenticate: MRA',
    problemOf(none, 401, 'UNAUTHORIZED'),
    gotOf(none),
  );
  const once = `MRA ${await token(kit)}`;
  const firstUse = await get(kit, `${path}?limit=1`, once);
  const replay = await get(kit, `${path}?limit=1`, once);
  out.judge(
    'token-replay',
    `GET ${path} twice with one request token`,
    '200, then 401 UNAUTHORIZED problem',
    firstUse instanceof WireFailure || firstUse.status !== 200
      ? `first use: ${gotOf(firstUse)}`
      : problemOf(replay, 401, 'UNAUTHORIZED'),
    gotOf(replay),
  );
  const cursor = Buffer.from('conformance-kit:not-a-cursor').toString('base64url');
  const bad = await get(kit, `${path}?after=${cursor}`, 'token');
  out.judge(
    'bad-cursor',
    `GET ${path}?after=<a cursor the target never wrote>`,
    '400 BAD_REQUEST problem',
    problemOf(bad, 400, 'BAD_REQUEST'),
    gotOf(bad),
  );
  const limit = await get(kit, `${path}?limit=${maxLimit + 1}`, 'token');
  out.judge(
    'bad-limit',
    `GET ${path}?limit=${maxLimit + 1}`,
    '400 BAD_REQUEST problem',
    problemOf(limit, 400, 'BAD_REQUEST'),
    gotOf(limit),
  );
  const foreign = await get(kit, `${path}?conformance=1`, 'token');
  out.judge(
    'foreign-parameter',
    `GET ${path}?conformance=1`,
    '400 BAD_REQUEST problem',
    problemOf(foreign, 400, 'BAD_REQUEST'),
    gotOf(foreign),
  );
}

export const feedSection: Section = {
  name: 'feed',
  about: 'pages with a request token, cursors, records signed by the target, refusals',
  async run(kit) {
    const out = new Results('feed');
    const { pages, problem } = await readAll(kit, 'feed');
    const records = pages.flatMap((p) => p.records);
    out.judge(
      'pages',
      `GET /feed?limit=${PAGE}, following next, a fresh request token a page`,
      '200 { records, next } on every page until a short one',
      problem,
      `${pages.length} page(s), ${records.length} record(s)`,
    );
    if (records.length === 0) {
      out.add(
        'records-signed',
        'SKIP',
        'the records of the feed',
        `records signed by ${kit.target.adminId}`,
        `the feed is empty: publish some operators to ${kit.home} at the target to check it`,
      );
    } else {
      const v = await verifyRecords(kit, records);
      out.judge(
        'records-signed',
        `the ${records.length} record(s) of the feed`,
        `each verified under the anchors configured for ${kit.target.adminId}, issuer ${kit.target.adminId}`,
        v.problem,
      );
    }
    const last = pages.at(-1)?.next;
    if (problem === undefined && last !== undefined) {
      const end = await get(kit, `/feed?after=${encodeURIComponent(last)}`, 'token');
      const body = end instanceof WireFailure ? undefined : (end.json as Page | undefined);
      out.judge(
        'end',
        'GET /feed?after=<the last next>',
        'an empty page whose next is the cursor given',
        pageProblem(end, 'feed') ??
          (body?.records.length === 0 && body.next === last
            ? undefined
            : `${body?.records.length} record(s), next ${body?.next}`),
      );
    } else {
      out.add('end', 'SKIP', 'GET /feed?after=<the last next>', 'an empty page', 'no cursor was read');
    }
    await refusals(kit, out, '/feed', 1000);
    return out.list;
  },
};

export const snapshotSection: Section = {
  name: 'snapshot',
  about: 'one snapshot across pages, its count, its digest recomputed',
  async run(kit) {
    const out = new Results('snapshot');
    const { pages, problem } = await readAll(kit, 'snapshot');
    const records = pages.flatMap((p) => p.records);
    const first = pages[0];
    const same = pages.every(
      (p) => p.asOf === first?.asOf && p.count === first?.count && p.digest === first?.digest,
    );
    out.judge(
      'pages',
      `GET /snapshot?limit=${PAGE}, following next until count records`,
      '200 { records, asOf, count, digest, next }, the same asOf, count and digest on every page',
      problem ?? (same ? undefined : 'asOf, count or digest differ between pages'),
      `${pages.length} page(s)`,
    );
    if (problem !== undefined || first === undefined) {
      out.add('count', 'SKIP', 'the snapshot', 'count records', 'no snapshot was read');
      out.add('digest', 'SKIP', 'the snapshot', 'the digest recomputed', 'no snapshot was read');
    } else {
      out.judge(
        'count',
        'the snapshot read',
        `count (${String(first.count)}) records`,
        records.length === first.count ? undefined : `${records.length} records`,
      );
      const v = await verifyRecords(kit, records);
      const lines: SnapshotLine[] = v.payloads.map((p, i) => ({
        issuer: p.issuer,
        aeoId: p.operator.aeoId,
        version: p.version,
        recordDigest: recordDigest(records[i]!),
      }));
      const digest = snapshotDigest(lines);
      out.judge(
        'digest',
        `the ${records.length} record(s) of the snapshot`,
        `each verified, and the digest recomputed equal to ${String(first.digest)}`,
        v.problem ?? (digest === first.digest ? undefined : `recomputed ${digest}`),
      );
    }
    await refusals(kit, out, '/snapshot', 1000);
    return out.list;
  },
};
