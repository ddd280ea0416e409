/**
 * docs/threats.md 60 and 61 for real, in the world of support/fault-partner-world.ts: the proxy drops and stalls
 * connections and the fault partner answers 5xx, 429 and 4xx; PE's webhooks to the border receiver are dropped
 * and stalled too. Receipts that prove nothing and answers cut after the request went through (62, 63):
 * partner-receipts.fault.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outboxOf, waitFor } from '../support/delivery.ts';
import { ATTEMPTS, PartnerWorld } from '../support/fault-partner-world.ts';
import { heldCounts, notificationsSettled, pushMany, webhookCounts } from '../support/fault-world.ts';
import { report } from './report.ts';

const w = new PartnerWorld();
beforeAll(() => w.start(), 180_000);
afterAll(() => w.close());

describe('a partner and a receiver in trouble', () => {
  it('G60 partner down, slow, 5xx, 429: retried with backoff, Retry-After honoured; then dead, replayed once', async () => {
    const parts: string[] = [];
    // Down: connections refused by the proxy until two attempts failed.
    w.proxy.mode({ kind: 'drop' });
    const down = await w.publishAndSettle(20, async (count) => {
      await waitFor('two failed attempts', async () =>
        (await count((r) => r.attempts >= 2)) > 0 ? true : undefined,
      );
      w.proxy.mode({ kind: 'pass' });
    });
    parts.push(
      `down: ${down.held.once} of 20 delivered once after ${Math.max(...down.rows.map((r) => r.attempts))} attempts`,
    );
    // Slow: accepted and never answered until the request timeout.
    w.proxy.mode({ kind: 'stall' });
    const slow = await w.publishAndSettle(20, async (count) => {
      await waitFor('an attempt that timed out', async () =>
        (await count((r) => /no answer/.test(r.lastError ?? ''))) > 0 ? true : undefined,
      );
      w.proxy.mode({ kind: 'pass' });
    });
    parts.push(`stalled: ${slow.held.once} of 20 delivered once after a timeout`);
    // 5xx then 429 with Retry-After: 2 s.
    w.partner.script([
      { kind: 'answer', status: 503, body: '{}' },
      { kind: 'answer', status: 502, body: '{}' },
      { kind: 'answer', status: 429, headers: { 'retry-after': '2' }, body: '{}' },
    ]);
    const errs = await w.publishAndSettle(20);
    const gaps = errs.seen.slice(1).map((s, i) => s.at - errs.seen[i]!.at);
    expect(gaps[2]).toBeGreaterThanOrEqual(1_950); // not before the partner's Retry-After
    expect(new Set(errs.seen.slice(0, 4).map((s) => s.body)).size).toBe(1); // I4
    // The 429 is a warning that names the pace to lower; the 5xx are not.
    const limited = w.logLines.filter((l) => /rate limit reached \(429\)/.test(String(l.msg)));
    expect(limited.map((l) => [l.level, /outbound\.requestsPerMinute/.test(String(l.msg))])).toEqual([
      [40, true],
    ]);
    parts.push(
      `503/502/429: gaps ${gaps.slice(0, 3).join('/')} ms, identical bytes, ${errs.held.once} of 20 delivered once`,
    );
    // Past the limit: dead, visible, replayed once.
    w.proxy.mode({ kind: 'drop' });
    const dead = await w.publishAndSettle(20);
    expect(dead.rows.every((r) => r.state === 'dead' && r.attempts === ATTEMPTS)).toBe(true);
    w.proxy.mode({ kind: 'pass' });
    const listed = await w.fetchDead();
    expect(dead.rows.every((r) => listed.includes(r.id))).toBe(true);
    const [first, second] = [await w.replay({ partner: 'CL' }), await w.replay({ partner: 'CL' })];
    expect(first.status).toBe(200);
    const replayed = (JSON.parse(first.text) as { replayed: number[] }).replayed.length;
    expect((JSON.parse(second.text) as { replayed: number[] }).replayed).toEqual([]);
    await waitFor('replayed rows delivered', async () =>
      (await w.rowsWith(dead.recordIds, () => true)) === 20 &&
      (await outboxOf(w.ex.store('PE'), 'CL'))
        .filter((r) => dead.recordIds.includes(r.recordId))
        .every((r) => r.state === 'delivered')
        ? true
        : undefined,
    );
    const afterReplay = await heldCounts(w.ex, dead.recordIds, dead.aeoIds);
    expect(afterReplay).toEqual({ once: 20, duplicates: 0, lost: 0 });
    parts.push(
      `dropped past ${ATTEMPTS} attempts: 20 dead and listed, replay took ${replayed}, a second replay 0, 20 delivered once`,
    );
    for (const p of [down, slow, errs]) expect(p.held).toEqual({ once: 20, duplicates: 0, lost: 0 });
    // The receiver's side: dropped, then stalled, then through.
    const signer = w.ex.admins.get('CL').config.home.signers[0]!;
    // Each fault lasts until an attempt has failed of it, not for a wall-clock span: with this suite's short
    // backoff, a fixed span on a slow or fast machine may use up every attempt (dead by design, not a fault).
    const markAt = await w.lastNotificationId();
    w.hookProxy.mode({ kind: 'drop' });
    const q = await pushMany(w.ex.gw('PE'), signer, 20, 10);
    await waitFor('a webhook refused', async () =>
      (await w.notificationsFailed(markAt, (e) => e !== 'timeout')) > 0 ? true : undefined,
    );
    w.hookProxy.mode({ kind: 'stall' });
    await waitFor('a webhook timed out', async () =>
      (await w.notificationsFailed(markAt, (e) => e === 'timeout')) > 0 ? true : undefined,
    );
    w.hookProxy.mode({ kind: 'pass' });
    await waitFor('webhooks through', async () =>
      webhookCounts(w.receiver.on('/border'), q.aeoIds).operators === 20 ? true : undefined,
    );
    await notificationsSettled(w.ex.store('PE'));
    const hooks = webhookCounts(w.receiver.on('/border'), q.aeoIds);
    expect(hooks.differing).toBe(0);
    const attempts = await w.notificationAttempts(markAt);
    parts.push(
      `receiver dropped then stalled: ${hooks.events} webhooks for 20 operators, ${hooks.resent} resent with the same id, at most ${attempts} attempts of ${ATTEMPTS}`,
    );
    report('G60', `partner in trouble: ${parts.join('; ')}`);
  });

  it('G61 partner answers 4xx for the batch: no blind retry, dead with the reason, replayed once', async () => {
    // Every batch refused, however the 20 rows were batched.
    w.partner.script(
      Array.from({ length: 40 }, () => ({
        kind: 'answer' as const,
        status: 400,
        body: '{"code":"BODY_INVALID","status":400}',
      })),
    );
    const r = await w.publishAndSettle(20);
    w.partner.script([]);
    // No blind retry: each batch was sent once.
    expect(new Set(r.seen.map((x) => x.body)).size).toBe(r.seen.length);
    expect(
      r.rows.every((x) => x.state === 'dead' && x.attempts === 1 && /^HTTP 400/.test(x.lastError ?? '')),
    ).toBe(true);
    expect(r.held).toEqual({ once: 0, duplicates: 0, lost: 20 });
    const listed = await w.fetchDead();
    expect(r.rows.every((x) => listed.includes(x.id))).toBe(true);
    const res = await w.replay({ ids: r.rows.map((x) => x.id) });
    expect(res.status).toBe(200);
    await waitFor('replayed and delivered', async () =>
      (await w.rowsWith(r.recordIds, (x) => x.attempts >= 1)) === 20 &&
      (await outboxOf(w.ex.store('PE'), 'CL'))
        .filter((x) => r.recordIds.includes(x.recordId))
        .every((x) => x.state === 'delivered')
        ? true
        : undefined,
    );
    const held = await heldCounts(w.ex, r.recordIds, r.aeoIds);
    expect(held).toEqual({ once: 20, duplicates: 0, lost: 0 });
    report(
      'G61',
      `partner answered 400 for each batch: ${r.seen.length} requests, none retried, ${r.rows.length} rows dead with "${r.rows[0]!.lastError?.slice(0, 40)}…", ` +
        `listed; replayed once: ${held.once} delivered once, 0 duplicates`,
    );
  });
});
