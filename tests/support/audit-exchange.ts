/**
 * The exchange the audit tests share: PE and CL, each publishing to the other, with the records delivered
 * and (when asked) a monitoring summary issued by PE and received by CL. Retention and summaries do not run
 * on timers, so the chain holds only what the tests did.
 */
import { type Exchange, makeExchange, settledOutbox, waitFor } from './delivery.ts';
import { newAeoId, publish } from './exchange.ts';

export interface AuditExchange {
  ex: Exchange;
  /** a: certified then suspended at PE; b: certified at PE; c: certified at CL. */
  aeo: { a: string; b: string; c: string };
}

export function previousMonth(): { from: string; to: string } {
  const now = new Date();
  const first = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  const last = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 0));
  return { from: first.toISOString().slice(0, 10), to: last.toISOString().slice(0, 10) };
}

export async function makeAuditExchange(): Promise<AuditExchange> {
  const aeo = { a: newAeoId('PE'), b: newAeoId('PE'), c: newAeoId('CL') };
  const ex = await makeExchange(['PE', 'CL'], {
    edit: (_id, raw) => {
      raw.retention = { intervalMs: 0 };
      raw.monitoring = { summaries: { auto: false } };
    },
  });
  await ex.start('PE');
  await ex.start('CL');
  await publish(ex.gw('PE'), aeo.a);
  await publish(ex.gw('PE'), aeo.a, { decision: 'suspend', suspendedUntil: '2027-01-31' });
  await publish(ex.gw('PE'), aeo.b);
  await publish(ex.gw('CL'), aeo.c, {
    operator: {
      identifiers: [{ scheme: 'TIN', value: `${aeo.c}T` }],
      name: `Exportadora ${aeo.c}`,
      address: { street: 'Av. Apoquindo 3000', city: 'Santiago', country: 'CL' },
      roles: ['exporter'],
    },
  });
  await settledOutbox(ex.store('PE'), 'CL', 3);
  await settledOutbox(ex.store('CL'), 'PE', 1);
  return { ex, aeo };
}

/** PE issues CL's summary of the previous month; resolves once CL holds it. */
export async function issueSummary(ex: Exchange): Promise<void> {
  await ex.gw('PE').gateway.summaries.issue({ partner: 'CL', ...previousMonth() });
  await waitFor('the summary at CL', async () => {
    const [row] = await ex.store('CL').query('SELECT 1 FROM monitoring_summary_in');
    return row;
  });
}
