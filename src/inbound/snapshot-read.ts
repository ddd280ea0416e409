/**
 * Reads a partner's whole snapshot, page after page, and checks that it is one snapshot: every page carries
 * the same asOf, count and digest, the records add up to the count, and the digest is the digest of the
 * records received. Only then is the digest worth comparing with ours.
 */
import type { Partner } from '../mra/types.ts';
import type { PartnerFetcher } from '../partner-client/fetch.ts';
import { type SnapshotLine, snapshotDigest } from '../protocol/snapshot-digest.ts';
import { isProtocolDateTime } from '../validation.ts';

/** Pages per snapshot: a million operators at 1,000 a page; a partner that never ends is cut off. */
export const MAX_SNAPSHOT_PAGES = 1000;
const MAX_CURSOR = 1024;
const DIGEST = /^[0-9a-f]{64}$/;

interface Summary {
  asOf: string;
  count: number;
  digest: string;
}

export type PartnerSnapshot =
  | ({ ok: true; lines: SnapshotLine[] } & Summary)
  | { ok: false; reason: string; summary: Summary | undefined };

export async function readSnapshot(
  fetcher: PartnerFetcher,
  partner: Partner,
  limit: number,
  lineFromRecord: (jws: string) => SnapshotLine | undefined,
): Promise<PartnerSnapshot> {
  let first: Summary | undefined;
  const fail = (reason: string): PartnerSnapshot => ({ ok: false, reason, summary: first });
  const lines: SnapshotLine[] = [];
  let after: string | undefined;
  for (let n = 1; ; n += 1) {
    if (n > MAX_SNAPSHOT_PAGES) return fail(`more than ${MAX_SNAPSHOT_PAGES} pages`);
    const query = new URLSearchParams({ limit: String(limit) });
    if (after !== undefined) query.set('after', after);
    const got = await fetcher.get(partner, `/snapshot?${query}`);
    if (!got.ok) return fail(got.reason);
    const page = pageOf(got.body, limit);
    if (typeof page === 'string') return fail(`page ${n}: ${page}`);
    if (first === undefined) first = page;
    else if (page.asOf !== first.asOf || page.count !== first.count || page.digest !== first.digest) {
      return fail(`page ${n} has another asOf, count or digest than page 1`);
    }
    for (const jws of page.records) {
      const line = lineFromRecord(jws);
      if (line === undefined) return fail(`page ${n} holds something that is not an AEO status record`);
      lines.push(line);
    }
    // The count says when the snapshot ends; a page shorter than asked does not (a partner may page smaller).
    if (page.records.length === 0 || lines.length >= first.count) break;
    after = page.next;
  }
  if (lines.length !== first.count)
    return fail(`${lines.length} records received, count says ${first.count}`);
  if (snapshotDigest(lines) !== first.digest) return fail('the digest is not the digest of the records sent');
  return { ok: true, lines, ...first };
}

/** A partner's answer is untrusted: its shape is checked before any of it is used. */
function pageOf(body: unknown, limit: number): (Summary & { records: string[]; next: string }) | string {
  if (typeof body !== 'object' || body === null) return 'not a JSON object';
  const { asOf, count, digest, records, next } = body as Record<string, unknown>;
  if (typeof asOf !== 'string' || !isProtocolDateTime(asOf)) return 'asOf is not a timestamp';
  // More than the pages read could ever hold is no count (and would not fit the report's column).
  if (!Number.isSafeInteger(count) || (count as number) < 0 || (count as number) > MAX_SNAPSHOT_PAGES * limit)
    return 'count is not a count';
  if (typeof digest !== 'string' || !DIGEST.test(digest)) return 'digest is not lowercase hex SHA-256';
  if (!Array.isArray(records) || !records.every((r) => typeof r === 'string')) {
    return 'records must be an array of strings';
  }
  if (records.length > limit) return `${records.length} records, ${limit} were asked`;
  if (typeof next !== 'string' || next.length === 0 || next.length > MAX_CURSOR)
    return 'next is not a cursor';
  return { asOf, count: count as number, digest, records: records as string[], next };
}
