/**
 * The main job of the demo: each administration's national AEO system records decisions at its own gateway
 * (the internal API), the gateway signs and pushes them to the partner through the delivery queue, and the
 * partner's gateway applies them and answers with signed receipts that the sender keeps. When Redis is not
 * running, the partner catches up from the sender's feed instead, as it would after any outage.
 */
import { randomUUID } from 'node:crypto';
import type { Gateway } from '../gateway.ts';
import { api, type DemoClient } from './demo-api.ts';

/** What one side published: the operators certified, the one suspended after. */
export interface Published {
  ok: boolean;
  certified: string[];
  suspended: string;
  /** The TIN of each certified operator, for lookups by identifier. */
  tins: Map<string, string>;
}

function certify(home: string, n: number) {
  const aeoId = `${home}DEMO${String(n).padStart(5, '0')}`;
  return {
    decisionId: randomUUID(),
    aeoId,
    decision: 'certify',
    consent: true,
    programme: 'AEO-F',
    certifiedOn: '2025-06-01',
    operator: {
      identifiers: [{ scheme: 'TIN', value: `${aeoId}T` }],
      name: `Demo operator ${n} of ${home}`,
      address: { street: `Calle ${n}`, city: home === 'PE' ? 'Lima' : 'Santiago', country: home },
      roles: ['exporter', 'importer'],
      enterpriseSize: n % 2 === 0 ? 'small' : 'large',
    },
  };
}

/** Publishes decisions at `from` and waits until `to` holds their latest versions. Returns false on failure. */
export async function exchangeDecisions(
  from: DemoClient,
  to: DemoClient,
  say: (line: string) => void,
  /** Whether Redis runs: without it nothing is pushed, and the partner pulls at once. */
  pushes = true,
): Promise<Published> {
  const home = from.gateway.config.home.adminId;
  const partner = to.gateway.config.home.adminId;
  const base = Math.floor(Date.now() / 1000) % 90_000;
  const decisions = [certify(home, base), certify(home, base + 1), certify(home, base + 2)];
  for (const d of decisions) await api(from, 'publish', 'POST', '/decisions', d);
  const suspended = {
    decisionId: randomUUID(),
    aeoId: decisions[1]!.aeoId,
    decision: 'suspend',
    suspendedUntil: '2027-03-31',
  };
  await api(from, 'publish', 'POST', '/decisions', suspended);
  const published = (ok: boolean): Published => ({
    ok,
    certified: decisions.map((d) => d.aeoId),
    suspended: suspended.aeoId,
    tins: new Map(decisions.map((d) => [d.aeoId, d.operator.identifiers[0]!.value])),
  });
  say(
    `${home}: national AEO system recorded 3 certifications and 1 suspension (4 signed records for ${partner})`,
  );

  const expected = new Map(decisions.map((d) => [d.aeoId, d.aeoId === suspended.aeoId ? 2 : 1]));
  const started = Date.now();
  let held = pushes && (await waitHeld(to.gateway, home, expected, 8_000));
  const pushed = held;
  if (held) {
    say(`${home} → ${partner}: pushed and applied in ${Date.now() - started} ms`);
  } else {
    const why = pushes ? 'is Redis running?' : 'Redis is not running';
    say(`${home} → ${partner}: not pushed (${why}); ${partner} pulls ${home}'s feed instead`);
    await api(to, 'admin', 'POST', `/partners/${home}/pull`);
    held = await waitHeld(to.gateway, home, expected, 5_000);
  }
  if (!held) {
    say(`${home} → ${partner}: FAILED, ${partner} does not hold every record`);
    return published(false);
  }
  // The partner commits before the sender has verified its receipt: give the sender a moment to record it.
  const readReceipts = async () =>
    (
      await from.gateway.store.query<{ receipts: string; delivered: string }>(
        `SELECT (SELECT count(*) FROM outbound_receipt WHERE partner = $1)::text AS receipts,
                (SELECT count(*) FROM outbox WHERE partner = $1 AND state = 'delivered')::text AS delivered`,
        [partner],
      )
    )[0];
  let receipts = await readReceipts();
  for (let i = 0; pushed && i < 50 && Number(receipts?.delivered) < 4; i++) {
    await new Promise((r) => setTimeout(r, 100));
    receipts = await readReceipts();
  }
  say(
    `${home} keeps ${receipts?.receipts} signed receipts from ${partner}; ${receipts?.delivered} deliveries confirmed`,
  );
  const report = await api<{ inSync: boolean; localCount: number }>(
    to,
    'admin',
    'POST',
    `/partners/${home}/reconcile`,
  );
  say(
    `${partner} reconciles with ${home}'s snapshot: ${report.inSync ? 'in sync' : 'DRIFT'} (${report.localCount} operators)`,
  );
  return published(report.inSync);
}

async function waitHeld(
  g: Gateway,
  issuer: string,
  expected: Map<string, number>,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const rows = await g.store.query<{ aeo_id: string; version: string }>(
      `SELECT aeo_id, version::text FROM operator_state
        WHERE issuer = $1 AND aeo_id IN (SELECT jsonb_array_elements_text($2::jsonb))`,
      [issuer, JSON.stringify([...expected.keys()])],
    );
    if (rows.length === expected.size && rows.every((r) => Number(r.version) >= expected.get(r.aeo_id)!))
      return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}
