/**
 * The monitoring report of a period that holds every generated operator (bench/lib/foreign-operators.ts: received
 * a day ago), asked of a running gateway: its figures read every operator and every record of the period, as the
 * monthly summary's do (src/monitoring/border-figures.ts), each statement under the store's 30 s timeout.
 */
import { request } from 'undici';

export interface ReportProbe {
  seconds: number;
  status: number;
  /** The operators the report holds at the period's end, when it answered 200. */
  held?: number;
}

const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export async function probeReport(apiUrl: string, token: string, partner: string): Promise<ReportProbe> {
  const now = Date.now();
  const query = new URLSearchParams({ partner, from: dayOf(now - 2 * 86_400_000), to: dayOf(now) });
  const t0 = performance.now();
  const res = await request(`${apiUrl}/api/v1/monitoring/report?${query}`, {
    headers: { authorization: `Bearer ${token}` },
    headersTimeout: 300_000,
    bodyTimeout: 300_000,
  });
  const body = (await res.body.json()) as { inbound?: { operators?: { held?: number } } };
  const seconds = (performance.now() - t0) / 1000;
  const held = body.inbound?.operators?.held;
  return { seconds, status: res.statusCode, ...(held === undefined ? {} : { held }) };
}
