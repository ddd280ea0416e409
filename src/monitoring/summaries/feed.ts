/**
 * `GET /mra/v1/monitoring` (docs/protocol.md, "Monitoring summaries"): every summary this gateway issued about
 * the caller's operators, every revision, in commit order, from a cursor. Issuing holds one lock, so the
 * `seq` of monitoring_summary_out follows commit order and a cursor never skips a summary that commits late.
 * Cursors are opaque to partners: here base64url of `monitoring/1:<seq>`, not secret and not signed, as
 * the records feed's are.
 */
import { decodeBase64urlStrict } from '../../crypto/base64url.ts';
import { GatewayError } from '../../errors.ts';
import { MAX_CURSOR_LENGTH } from '../../partner-api/cursor.ts';
import type { Sql } from '../../store/types.ts';

/** docs/protocol.md: `limit` 1 to 100; this gateway serves the most when it is absent. */
export const MAX_SUMMARY_PAGE = 100;

const CURSOR = /^monitoring\/1:(0|[1-9][0-9]{0,17})$/;

export interface SummaryPage {
  summaries: string[];
  next: string;
}

export function encodeSummaryCursor(seq: bigint): string {
  return Buffer.from(`monitoring/1:${seq}`, 'utf8').toString('base64url');
}

export function decodeSummaryCursor(cursor: string): bigint {
  const bytes = cursor.length > MAX_CURSOR_LENGTH ? null : decodeBase64urlStrict(cursor);
  const m = bytes === null ? null : CURSOR.exec(Buffer.from(bytes).toString('latin1'));
  if (m === null || m === undefined) {
    throw new GatewayError('BAD_REQUEST', "after is not a cursor of this gateway's monitoring summaries");
  }
  return BigInt(m[1] ?? '0');
}

export async function summaryPage(
  sql: Sql,
  partner: string,
  after: string | undefined,
  limit: number,
): Promise<SummaryPage> {
  const from = after === undefined ? 0n : decodeSummaryCursor(after);
  const rows = await sql.query<{ seq: string; jws: string }>(
    `SELECT seq::text, jws FROM monitoring_summary_out WHERE subject = $1 AND seq > $2::bigint
      ORDER BY seq LIMIT $3`,
    [partner, from.toString(), limit],
  );
  const last = rows.at(-1);
  return {
    summaries: rows.map((r) => r.jws),
    next: encodeSummaryCursor(last === undefined ? from : BigInt(last.seq)),
  };
}
