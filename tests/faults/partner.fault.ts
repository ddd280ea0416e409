/**
 * docs/threats.md 60–64 for real: PE delivers to CL through a TCP proxy (support/tcp-proxy.ts) and, behind it, an
 * HTTP fault partner (support/fault-partner.ts) in front of CL's real gateway; PE's webhooks reach the border
 * receiver through a second TCP proxy. The proxy drops, stalls and cuts connections after the request went
 * through; the fault partner answers 5xx, 429, 4xx and receipts that prove nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signReceipt } from '../../src/inbound/receipt.ts';
import { createLogger } from '../../src/log.ts';
import type { Receipt } from '../../src/protocol/receipt.ts';
import { type Exchange, outboxOf, waitFor } from '../support/delivery.ts';
import { API_TOKENS, bearer, freePorts } from '../support/exchange.ts';
import { type FaultAction, type FaultPartner, startFaultPartner } from '../support/fault-partner.ts';
import {
  heldCounts,
  makeFaultExchange,
  notificationsSettled,
  publishMany,
  pushMany,
  subscribe,
  webhookCounts,
} from '../support/fault-world.ts';
import { decodePayload, httpRequest, postTo } from '../support/gateway.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';
import { startReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';
import { report } from './report.ts';

const ATTEMPTS = 6;
let ex: Exchange;
let proxy: TcpProxy;
let partner: FaultPartner;
let hookProxy: TcpProxy;
let receiver: WebhookReceiver;
const logLines: Record<string, unknown>[] = [];

beforeAll(async () => {
  const [proxyPort, faultPort] = (await freePorts(2)) as [number, number];
  ex = await makeFaultExchange({
    outbound: { attempts: ATTEMPTS, backoffMs: 100, maxBackoffMs: 1_600, requestTimeoutMs: 1_500 },
    edit: (id, raw) => {
      if (id === 'PE')
        raw.partners.find((p) => p.adminId === 'CL')!.endpoint = `http://127.0.0.1:${proxyPort}/mra/v1`;
    },
  });
  partner = await startFaultPartner(faultPort, () => ex.gw('CL').url);
  proxy = await startTcpProxy(() => faultPort, { port: proxyPort });
  receiver = await startReceiver();
  hookProxy = await startTcpProxy(() => Number(new URL(receiver.url('/')).port));
  await ex.start('CL');
  await ex.start(
    'PE',
    createLogger('info', { write: (line: string) => void logLines.push(JSON.parse(line)) }),
  );
  await subscribe(ex.gw('PE').gateway.apiUrl, hookProxy.url('/border'));
}, 180_000);
afterAll(async () => {
  await ex?.close();
  await proxy?.close();
  await hookProxy?.close();
  await partner?.close();
  await receiver?.stop();
});

/**
 * Publishes `n` decisions and waits until each of their rows is delivered or dead. `during` runs alongside the
 * publishing, given a count of this call's rows matching a test (rows after the outbox's high-water mark).
 */
async function publishAndSettle(n: number, during?: (count: RowCount) => Promise<void>) {
  const from = partner.seen.length;
  const mark = Math.max(0, ...(await outboxOf(ex.store('PE'), 'CL')).map((r) => r.id));
  const count: RowCount = async (test) =>
    (await outboxOf(ex.store('PE'), 'CL')).filter((r) => r.id > mark && test(r)).length;
  const [p] = await Promise.all([publishMany(ex.gw('PE'), n), during?.(count)]);
  const ids = new Set(p.recordIds);
  const rows = await waitFor(
    `${n} rows settled`,
    async () => {
      const mine = (await outboxOf(ex.store('PE'), 'CL')).filter((r) => ids.has(r.recordId));
      return mine.length === n && mine.every((r) => r.state === 'delivered' || r.state === 'dead')
        ? mine
        : undefined;
    },
    120_000,
    100,
  );
  const held = await heldCounts(ex, p.recordIds, p.aeoIds);
  return { ...p, rows, held, seen: partner.seen.slice(from) };
}

/** The newest notification row's id: rows after it are the ones a test made. */
async function lastNotificationId(): Promise<number> {
  const [row] = await ex
    .store('PE')
    .query<{ id: string | null }>('SELECT max(id)::text AS id FROM notification');
  return Number(row?.id ?? 0);
}

/** Notification rows after `mark` whose last failure passes `test`. */
async function notificationsFailed(mark: number, test: (failure: string) => boolean): Promise<number> {
  const rows = await ex
    .store('PE')
    .query<{ last_error: string }>(
      'SELECT last_error FROM notification WHERE id > $1 AND last_error IS NOT NULL',
      [mark],
    );
  return rows.filter((r) => test(r.last_error)).length;
}

/** The most attempts any notification row after `mark` took. */
async function notificationAttempts(mark: number): Promise<number> {
  const [row] = await ex
    .store('PE')
    .query<{ n: number | null }>('SELECT max(attempts)::int AS n FROM notification WHERE id > $1', [mark]);
  return Number(row?.n ?? 0);
}

type RowCount = (test: (r: { attempts: number; lastError: string | null }) => boolean) => Promise<number>;

const rowsWith = async (
  ids: readonly string[],
  test: (r: { attempts: number; lastError: string | null }) => boolean,
) => {
  const set = new Set(ids);
  return (await outboxOf(ex.store('PE'), 'CL')).filter((r) => set.has(r.recordId) && test(r)).length;
};

const replay = (body: unknown) =>
  postTo(`${ex.gw('PE').gateway.apiUrl}/api/v1/deliveries/replay`, body, {
    headers: bearer(API_TOKENS.operator),
  });

describe('a partner and a receiver in trouble', () => {
  it('G60 partner down, slow, 5xx, 429: retried with backoff, Retry-After honoured; then dead, replayed once', async () => {
    const parts: string[] = [];
    // Down: connections refused by the proxy until two attempts failed.
    proxy.mode({ kind: 'drop' });
    const down = await publishAndSettle(20, async (count) => {
      await waitFor('two failed attempts', async () =>
        (await count((r) => r.attempts >= 2)) > 0 ? true : undefined,
      );
      proxy.mode({ kind: 'pass' });
    });
    parts.push(
      `down: ${down.held.once} of 20 delivered once after ${Math.max(...down.rows.map((r) => r.attempts))} attempts`,
    );
    // Slow: accepted and never answered until the request timeout.
    proxy.mode({ kind: 'stall' });
    const slow = await publishAndSettle(20, async (count) => {
      await waitFor('an attempt that timed out', async () =>
        (await count((r) => /no answer/.test(r.lastError ?? ''))) > 0 ? true : undefined,
      );
      proxy.mode({ kind: 'pass' });
    });
    parts.push(`stalled: ${slow.held.once} of 20 delivered once after a timeout`);
    // 5xx then 429 with Retry-After: 2 s.
    partner.script([
      { kind: 'answer', status: 503, body: '{}' },
      { kind: 'answer', status: 502, body: '{}' },
      { kind: 'answer', status: 429, headers: { 'retry-after': '2' }, body: '{}' },
    ]);
    const errs = await publishAndSettle(20);
    const gaps = errs.seen.slice(1).map((s, i) => s.at - errs.seen[i]!.at);
    expect(gaps[2]).toBeGreaterThanOrEqual(1_950); // not before the partner's Retry-After
    expect(new Set(errs.seen.slice(0, 4).map((s) => s.body)).size).toBe(1); // I4
    // The 429 is a warning that names the pace to lower; the 5xx are not.
    const limited = logLines.filter((l) => /rate limit reached \(429\)/.test(String(l.msg)));
    expect(limited.map((l) => [l.level, /outbound\.requestsPerMinute/.test(String(l.msg))])).toEqual([
      [40, true],
    ]);
    parts.push(
      `503/502/429: gaps ${gaps.slice(0, 3).join('/')} ms, identical bytes, ${errs.held.once} of 20 delivered once`,
    );
    // Past the limit: dead, visible, replayed once.
    proxy.mode({ kind: 'drop' });
    const dead = await publishAndSettle(20);
    expect(dead.rows.every((r) => r.state === 'dead' && r.attempts === ATTEMPTS)).toBe(true);
    proxy.mode({ kind: 'pass' });
    const listed = await fetchDead();
    expect(dead.rows.every((r) => listed.includes(r.id))).toBe(true);
    const [first, second] = [await replay({ partner: 'CL' }), await replay({ partner: 'CL' })];
    expect(first.status).toBe(200);
    const replayed = (JSON.parse(first.text) as { replayed: number[] }).replayed.length;
    expect((JSON.parse(second.text) as { replayed: number[] }).replayed).toEqual([]);
    await waitFor('replayed rows delivered', async () =>
      (await rowsWith(dead.recordIds, () => true)) === 20 &&
      (await outboxOf(ex.store('PE'), 'CL'))
        .filter((r) => dead.recordIds.includes(r.recordId))
        .every((r) => r.state === 'delivered')
        ? true
        : undefined,
    );
    const afterReplay = await heldCounts(ex, dead.recordIds, dead.aeoIds);
    expect(afterReplay).toEqual({ once: 20, duplicates: 0, lost: 0 });
    parts.push(
      `dropped past ${ATTEMPTS} attempts: 20 dead and listed, replay took ${replayed}, a second replay 0, 20 delivered once`,
    );
    for (const p of [down, slow, errs]) expect(p.held).toEqual({ once: 20, duplicates: 0, lost: 0 });
    // The receiver's side: dropped, then stalled, then through.
    const signer = ex.admins.get('CL').config.home.signers[0]!;
    // Each fault lasts until an attempt has failed of it, not for a wall-clock span: with this suite's short
    // backoff, a fixed span on a slow or fast machine may use up every attempt (dead by design, not a fault).
    const markAt = await lastNotificationId();
    hookProxy.mode({ kind: 'drop' });
    const q = await pushMany(ex.gw('PE'), signer, 20, 10);
    await waitFor('a webhook refused', async () =>
      (await notificationsFailed(markAt, (e) => e !== 'timeout')) > 0 ? true : undefined,
    );
    hookProxy.mode({ kind: 'stall' });
    await waitFor('a webhook timed out', async () =>
      (await notificationsFailed(markAt, (e) => e === 'timeout')) > 0 ? true : undefined,
    );
    hookProxy.mode({ kind: 'pass' });
    await waitFor('webhooks through', async () =>
      webhookCounts(receiver.on('/border'), q.aeoIds).operators === 20 ? true : undefined,
    );
    await notificationsSettled(ex.store('PE'));
    const hooks = webhookCounts(receiver.on('/border'), q.aeoIds);
    expect(hooks.differing).toBe(0);
    const attempts = await notificationAttempts(markAt);
    parts.push(
      `receiver dropped then stalled: ${hooks.events} webhooks for 20 operators, ${hooks.resent} resent with the same id, at most ${attempts} attempts of ${ATTEMPTS}`,
    );
    report('G60', `partner in trouble: ${parts.join('; ')}`);
  });

  it('G61 partner answers 4xx for the batch: no blind retry, dead with the reason, replayed once', async () => {
    // Every batch refused, however the 20 rows were batched.
    partner.script(
      Array.from({ length: 40 }, () => ({
        kind: 'answer' as const,
        status: 400,
        body: '{"code":"BODY_INVALID","status":400}',
      })),
    );
    const r = await publishAndSettle(20);
    partner.script([]);
    // No blind retry: each batch was sent once.
    expect(new Set(r.seen.map((x) => x.body)).size).toBe(r.seen.length);
    expect(
      r.rows.every((x) => x.state === 'dead' && x.attempts === 1 && /^HTTP 400/.test(x.lastError ?? '')),
    ).toBe(true);
    expect(r.held).toEqual({ once: 0, duplicates: 0, lost: 20 });
    const listed = await fetchDead();
    expect(r.rows.every((x) => listed.includes(x.id))).toBe(true);
    const res = await replay({ ids: r.rows.map((x) => x.id) });
    expect(res.status).toBe(200);
    await waitFor('replayed and delivered', async () =>
      (await rowsWith(r.recordIds, (x) => x.attempts >= 1)) === 20 &&
      (await outboxOf(ex.store('PE'), 'CL'))
        .filter((x) => r.recordIds.includes(x.recordId))
        .every((x) => x.state === 'delivered')
        ? true
        : undefined,
    );
    const held = await heldCounts(ex, r.recordIds, r.aeoIds);
    expect(held).toEqual({ once: 20, duplicates: 0, lost: 0 });
    report(
      'G61',
      `partner answered 400 for each batch: ${r.seen.length} requests, none retried, ${r.rows.length} rows dead with "${r.rows[0]!.lastError?.slice(0, 40)}…", ` +
        `listed; replayed once: ${held.once} delivered once, 0 duplicates`,
    );
  });

  it('G62 receipts unsigned, wrongly signed or for other digests: not delivered, retried, each an alert', async () => {
    const cl = ex.admins.get('CL').config.home.signers[0]!;
    const pe = ex.admins.get('PE').config.home.signers[0]!;
    const receiptOf = (jws: string) => decodePayload(jws) as Receipt;
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const actions: FaultAction[] = [
      {
        kind: 'swap-receipt',
        receipt: (real) => `${b64({ alg: 'none', typ: 'aeo-receipt+jws' })}.${real.split('.')[1]}.`,
      },
      { kind: 'swap-receipt', receipt: (real) => signReceipt(receiptOf(real), pe) },
      {
        kind: 'swap-receipt',
        receipt: (real) => {
          const r = receiptOf(real);
          return signReceipt(
            {
              ...r,
              results: r.results.map((x) => ({
                ...x,
                digest: x.digest.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')),
              })),
            },
            cl,
          );
        },
      },
    ];
    partner.script(actions);
    const alertsBefore = logLines.filter((l) => l.alert === 'receipt-invalid').length;
    const r = await publishAndSettle(20);
    const alerts = logLines.filter((l) => l.alert === 'receipt-invalid').length - alertsBefore;
    expect(alerts).toBe(3);
    // The three refused receipts cost three byte-identical retries (I4), nothing else.
    expect(r.seen.length - new Set(r.seen.map((x) => x.body)).size).toBe(3);
    expect(r.rows.every((x) => x.state === 'delivered')).toBe(true);
    expect(r.held).toEqual({ once: 20, duplicates: 0, lost: 0 });
    report(
      'G62',
      `3 receipts that prove nothing (unsigned, signed by the wrong key, other digests): ${alerts} alerts, ` +
        `${r.seen.length} requests (3 byte-identical retries), ${r.held.once} of 20 delivered once ` +
        `(${r.rows.filter((x) => x.outcome === 'duplicate').length} duplicate outcomes), 0 lost`,
    );
  });

  it('G63 connection dropped after the partner stored, before the receipt: identical retry, delivered once', async () => {
    const from = partner.seen.length;
    proxy.mode({ kind: 'drop-after', bytes: 0, direction: 'down' });
    const cutBefore = proxy.stats.cut;
    const r = await publishAndSettle(20, async () => {
      await waitFor('a cut answer', async () => (proxy.stats.cut > cutBefore ? true : undefined), 60_000, 5);
      proxy.mode({ kind: 'pass' });
    });
    const seen = partner.seen.slice(from);
    const bodies = seen.map((x) => x.body);
    expect(new Set(bodies).size).toBeLessThan(bodies.length); // a batch went twice
    expect(r.rows.every((x) => x.state === 'delivered')).toBe(true);
    expect(r.held).toEqual({ once: 20, duplicates: 0, lost: 0 });
    // The receiver's side: the webhook got there, its answer did not.
    const signer = ex.admins.get('CL').config.home.signers[0]!;
    const hookCut = hookProxy.stats.cut;
    hookProxy.mode({ kind: 'drop-after', bytes: 0, direction: 'down' });
    const q = await pushMany(ex.gw('PE'), signer, 10, 10);
    await waitFor(
      'a cut webhook answer',
      async () => (hookProxy.stats.cut > hookCut ? true : undefined),
      60_000,
      5,
    );
    hookProxy.mode({ kind: 'pass' });
    await waitFor('webhooks through', async () =>
      webhookCounts(receiver.on('/border'), q.aeoIds).operators === 10 ? true : undefined,
    );
    await notificationsSettled(ex.store('PE'));
    const hooks = webhookCounts(receiver.on('/border'), q.aeoIds);
    expect(hooks.resent).toBeGreaterThanOrEqual(1);
    expect(hooks.differing).toBe(0);
    report(
      'G63',
      `answer cut after the partner stored (proxy drop-after 0 bytes down): ${bodies.length} requests for ` +
        `${new Set(bodies).size} batches, retries byte-identical, ${r.rows.filter((x) => x.outcome === 'duplicate').length} ` +
        `duplicate outcomes, ${r.held.once} of 20 delivered once, 0 twice; receiver's answer cut: ${hooks.events} webhooks, ` +
        `${hooks.resent} resent with the same id and bytes`,
    );
  });
});

async function fetchDead(): Promise<number[]> {
  const res = await httpRequest(`${ex.gw('PE').gateway.apiUrl}/api/v1/deliveries?state=dead&partner=CL`, {
    method: 'GET',
    headers: bearer(API_TOKENS.operator),
  });
  return (JSON.parse(res.text) as { deliveries: { id: number }[] }).deliveries.map((d) => d.id);
}
