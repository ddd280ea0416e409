/**
 * What the demo's border systems and joint committee see once the records are exchanged: a lookup of one
 * operator of the partner and of a suspended one, a manifest looked up in one call, and the monitoring report
 * of the MRA for the current month (a summary printed, the printable HTML page written beside the demo).
 */
import { writeFileSync } from 'node:fs';
import { api, callApi, type DemoClient } from './demo-api.ts';
import type { Published } from './demo-decisions.ts';

interface Answer {
  query: Record<string, string>;
  recognised: boolean;
  reason?: string;
  operator?: { issuer: string; aeoId: string; status: string; version: number };
  benefits?: { id: string }[];
  evidence?: { digest: string };
}

function describe(a: Answer): string {
  const who = a.operator ? `${a.operator.issuer}/${a.operator.aeoId}` : Object.values(a.query).join('/');
  if (!a.recognised) return `${who}: not recognised (${a.reason})`;
  const benefits = (a.benefits ?? []).map((b) => b.id).join(', ');
  return `${who}: recognised, benefits ${benefits}; evidence ${a.evidence?.digest.slice(0, 12)}…`;
}

/** Lookups at `border`'s gateway of the operators `partner` published. False when an answer is not as expected. */
export async function borderLookups(
  border: DemoClient,
  partner: Published & { adminId: string },
  say: (line: string) => void,
): Promise<boolean> {
  const home = border.gateway.config.home.adminId;
  const { adminId } = partner;
  const recognisedId = partner.certified.find((id) => id !== partner.suspended)!;
  const one = await api<Answer>(border, 'border', 'GET', `/operators/${adminId}/${recognisedId}`);
  say(`${home} border lookup of ${describe(one)}`);
  const suspended = await api<Answer>(border, 'border', 'GET', `/operators/${adminId}/${partner.suspended}`);
  say(`${home} border lookup of ${describe(suspended)}`);

  const items = [
    ...partner.certified.map((aeoId) => ({ issuer: adminId, aeoId })),
    { scheme: 'TIN', value: partner.tins.get(recognisedId)! },
    { issuer: adminId, aeoId: `${adminId}UNKNOWN0001` },
  ];
  const manifest = await api<{ asOf: string; answers: Answer[] }>(
    border,
    'border',
    'POST',
    '/operators/lookup',
    {
      items,
    },
  );
  const recognised = manifest.answers.filter((a) => a.recognised).length;
  const reasons = manifest.answers.filter((a) => !a.recognised).map((a) => a.reason);
  say(
    `${home} border lookup of a manifest of ${items.length} items in one call: ${recognised} recognised, ` +
      `${reasons.length} not (${reasons.join(', ')})`,
  );
  return (
    one.recognised &&
    !suspended.recognised &&
    suspended.reason === 'suspended' &&
    manifest.answers.length === items.length &&
    recognised === items.length - 2
  );
}

interface Report {
  period: { from: string; to: string };
  outbound: {
    records: { published: number };
    deliveries: { delivered: number; outcomes: { accepted: number; duplicate: number } };
    latency: { toReceiptMs: { p50: number | null } };
  };
  inbound: {
    operators: { held: number; byStatus: Record<string, number> };
    figures: { lookups?: { total?: number; recognised?: number } };
    freshness: { lastReconciliation: { inSync: boolean } | null };
  };
}

/** The monitoring report of `home`'s MRA with `partner` for this month so far; the HTML page to `htmlPath`. */
export async function monitoringReport(
  home: DemoClient,
  partner: string,
  htmlPath: string,
  say: (line: string) => void,
): Promise<boolean> {
  const today = new Date().toISOString().slice(0, 10);
  const query = `partner=${partner}&from=${today.slice(0, 8)}01&to=${today}`;
  const report = await api<Report>(home, 'monitoring', 'GET', `/monitoring/report?${query}&format=json`);
  const self = home.gateway.config.home.adminId;
  const { outbound: out, inbound: inb } = report;
  const p50 = out.latency.toReceiptMs.p50;
  say(`monitoring report ${self}–${partner}, ${report.period.from} to ${report.period.to}:`);
  say(
    `  ${self} → ${partner}: ${out.records.published} records published, ${out.deliveries.delivered} delivered ` +
      `(receipts: ${out.deliveries.outcomes.accepted} accepted, ${out.deliveries.outcomes.duplicate} duplicate)` +
      `${p50 === null ? '' : `, median ${p50} ms to the receipt`}`,
  );
  const statuses = Object.entries(inb.operators.byStatus)
    .map(([status, n]) => `${n} ${status}`)
    .join(', ');
  const lookups = inb.figures.lookups;
  say(
    `  ${partner} → ${self}: ${inb.operators.held} operators held (${statuses}); ` +
      `${lookups?.total ?? 0} border lookups, ${lookups?.recognised ?? 0} recognised`,
  );
  const html = await callApi(home, 'monitoring', 'GET', `/monitoring/report?${query}&format=html`);
  if (html.status !== 200) {
    say(`  HTML report: HTTP ${html.status}`);
    return false;
  }
  writeFileSync(htmlPath, html.text, 'utf8');
  say(`  printable page (English; &lang=es for Spanish): ${htmlPath}`);
  return out.records.published > 0 && inb.operators.held > 0;
}
