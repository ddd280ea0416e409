/**
 * The monitoring report and the monitoring summaries over a scripted exchange between two real gateways (PE and
 * CL) whose true numbers are known: decisions at both sides (certify, suspend, revoke, withdraw; micro to large
 * and unknown sizes; one operator without consent), deliveries both ways, a record the partner's MRA does not
 * cover (dead), a fault (CL down while PE publishes: retried), a crafted batch with a duplicate, a superseded
 * version and three rejections, an amendment of PE's MRA (terms history, out-of-scope), a pull and a
 * reconciliation each way, lookups and feedback at both borders. Every figure of both reports (PE's about CL,
 * CL's about PE) and of both summaries is checked against the script's model (tests/support/monitoring-*.ts)
 * or, for times, against what the other side signed or the window of the act that set them.
 *
 * A summary covers a period that has ended. The script runs today, in the period from two days ago to today;
 * for the summaries both gateways are restarted with a clock one day ahead, for which that period has ended.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Receipt } from '../../src/protocol/receipt.ts';
import { type Exchange, outboxOf, settledOutbox, waitFor } from '../support/delivery.ts';
import { bearer, newAeoId } from '../support/exchange.ts';
import { decodePayload, type TestGateway } from '../support/gateway.ts';
import {
  CL_OPS,
  CL_PROGRAMMES,
  feedbackOf,
  type Home,
  PE_AMENDED,
  PE_FAULT,
  PE_OPS,
} from '../support/monitoring-cases.ts';
import {
  amendAndRestart,
  apiGet,
  BORDER_TOKEN,
  craftedBatch,
  decideAll,
  getReport,
  issueThroughApi,
  makeMonitoringExchange,
  notificationsSettled,
  pullAndReconcile,
  reportOf,
  restartWithClock,
} from '../support/monitoring-exchange.ts';
import { checkFigures, checkReport, type Side, type Window } from '../support/monitoring-expect.ts';
import { type FeedbackLine, judge } from '../support/monitoring-script.ts';
import { heldAt as heldOf, type ScriptRun, scopeAt as scopeOf, sideOf } from '../support/monitoring-sides.ts';
import { startReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

const DAY = 86_400_000;
const day = (offset: number) => new Date(Date.now() + offset * DAY).toISOString().slice(0, 10);

let ex: Exchange;
let receiver: WebhookReceiver;
let started: Window;
/** The gateways restarted a day ahead for the summaries, closed before the exchange. */
const ahead: TestGateway[] = [];
const ids = new Map<string, string>();
const aeo = (key: string) => {
  const id = ids.get(key);
  if (id === undefined) throw new Error(`no operator ${key}`);
  return id;
};

beforeAll(async () => {
  ex = await makeMonitoringExchange(CL_PROGRAMMES);
  const before = Date.now();
  await ex.start('PE');
  await ex.start('CL');
  started = [before, Date.now()];
  receiver = await startReceiver();
  for (const o of [...PE_OPS, PE_FAULT]) ids.set(o.key, newAeoId('PE'));
  for (const o of CL_OPS) ids.set(o.key, newAeoId('CL'));
}, 120_000);

afterAll(async () => {
  for (const gw of ahead) await gw.close();
  await receiver?.stop();
  await ex?.close();
});

describe('the monitoring report and summaries of a scripted exchange', () => {
  const lookedUp = { PE: [] as string[], CL: [] as string[] };
  const feedback = { PE: [] as FeedbackLine[], CL: [] as FeedbackLine[] };
  const period = { from: day(-2), to: day(0) };
  const activeDay = day(0);
  const sides: Partial<Record<Home, Side>> = {};
  let run: ScriptRun | undefined;
  const script = (): ScriptRun => {
    if (run === undefined) throw new Error('the script did not run');
    return run;
  };
  const heldAt = (home: Home) => heldOf(script(), home);
  const scopeAt = (home: Home) => scopeOf(script(), home);

  it('runs the script', async () => {
    // Before anything is published: each side pulls the other's feed (empty) and reconciles (in sync).
    const fresh = { PE: await pullAndReconcile(ex, 'PE', 'CL'), CL: await pullAndReconcile(ex, 'CL', 'PE') };
    // A border system at PE listens for CL's operators: the latency to the border is measured there.
    const sub = await ex
      .gw('PE')
      .api.post(
        '/api/v1/subscriptions',
        { url: receiver.url('/pe'), issuers: ['CL'] },
        { headers: bearer(BORDER_TOKEN) },
      );
    expect(sub.status, sub.text).toBe(201);

    for (const o of PE_OPS) await decideAll(ex, 'PE', o, aeo(o.key));
    for (const o of CL_OPS) await decideAll(ex, 'CL', o, aeo(o.key));
    const peRecords = PE_OPS.filter((o) => o.consent).reduce((n, o) => n + o.decisions.length, 0);
    const clRecords = CL_OPS.filter((o) => o.consent).reduce((n, o) => n + o.decisions.length, 0);
    await settledOutbox(ex.store('PE'), 'CL', peRecords, 120_000);
    await settledOutbox(ex.store('CL'), 'PE', clRecords, 120_000);

    // The fault: CL is down while PE publishes; the delivery is retried until CL is back.
    await ex.stop('CL');
    await decideAll(ex, 'PE', PE_FAULT, aeo('pF'));
    await waitFor(
      'a retried delivery while CL is down',
      async () => {
        const rows = await outboxOf(ex.store('PE'), 'CL');
        return rows.some((r) => r.aeoId === aeo('pF') && r.state === 'retrying' && r.attempts >= 2)
          ? true
          : undefined;
      },
      120_000,
    );
    await ex.start('CL');
    await settledOutbox(ex.store('PE'), 'CL', peRecords + 1, 120_000);

    // An amendment: PE's MRA with CL no longer covers AEO-C (CL's AEO-C operator is now out of scope at PE).
    const before = Date.now();
    await amendAndRestart(ex, 'PE', 'CL', PE_AMENDED);
    const amended: Window = [before, Date.now()];

    const crafted = await craftedBatch(ex, aeo('cA'));
    const res = await ex.gw('PE').post({ records: crafted.jws });
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    const craftedReceipt = decodePayload((JSON.parse(res.text) as { receipt: string }).receipt) as Receipt;
    expect(craftedReceipt.results.map((r) => (r.outcome === 'rejected' ? r.code : r.outcome))).toEqual(
      crafted.expected,
    );
    run = {
      ex,
      aeo,
      receiver,
      crafted,
      craftedReceipt,
      lookedUp,
      feedback,
      fresh,
      started,
      amended,
      activeDay,
    };
  }, 600_000);

  it('answers lookups at both borders as the script says, and counts those of partners', async () => {
    for (const [home, partner, singles, batch] of [
      ['PE', 'CL', [...['cA', 'cB', 'cC', 'cD', 'cE'].map(aeo), 'CLNOSUCH01'], ['cA', 'cG', 'cB'].map(aeo)],
      ['CL', 'PE', [...['pA', 'pB', 'pC', 'pS'].map(aeo)], ['pE', 'pF', 'pD', 'pN'].map(aeo)],
    ] as const) {
      const held = new Map(heldAt(home).map((h) => [h.aeoId, h]));
      const scope = scopeAt(home);
      const expectAnswer = (answer: { recognised: boolean; reason?: string }, aeoId: string) => {
        const expected = judge(held.get(aeoId), scope);
        expect(answer.recognised ? 'recognised' : answer.reason, aeoId).toBe(expected);
        lookedUp[home].push(expected);
      };
      for (const aeoId of singles) {
        const res = await apiGet(ex, home, `/api/v1/operators/${partner}/${aeoId}`, BORDER_TOKEN);
        expect(res.status, res.text.slice(0, 200)).toBe(200);
        expectAnswer(JSON.parse(res.text), aeoId);
      }
      const items = [
        ...batch.map((aeoId) => ({ issuer: partner, aeoId })),
        { issuer: 'US', aeoId: 'USOP0001' },
      ];
      const res = await ex
        .gw(home)
        .api.post('/api/v1/operators/lookup', { items }, { headers: bearer(BORDER_TOKEN) });
      expect(res.status, res.text.slice(0, 200)).toBe(200);
      const answers = (JSON.parse(res.text) as { answers: { recognised: boolean; reason?: string }[] })
        .answers;
      // The last item names an issuer that is no partner: answered, not counted.
      expect(answers.at(-1)).toMatchObject({ recognised: false, reason: 'unknown' });
      for (const [i, aeoId] of batch.entries()) {
        expectAnswer(answers[i] ?? { recognised: false, reason: 'missing' }, aeoId);
      }
    }
    // By identifier at PE: the one CL operator with it, and a value of none; without a country, not counted.
    const byId = async (query: string) => {
      const res = await apiGet(ex, 'PE', `/api/v1/operators?scheme=TIN&${query}`, BORDER_TOKEN);
      expect(res.status, res.text.slice(0, 200)).toBe(200);
      return JSON.parse(res.text) as { recognised: boolean; reason?: string };
    };
    const g = heldAt('PE').find((h) => h.aeoId === aeo('cG'));
    expect((await byId(`value=${aeo('cG')}T&country=CL`)).recognised).toBe(
      judge(g, scopeAt('PE')) === 'recognised',
    );
    lookedUp.PE.push(judge(g, scopeAt('PE')));
    expect(await byId('value=CLNOVALUE1&country=CL')).toMatchObject({ recognised: false, reason: 'unknown' });
    lookedUp.PE.push('unknown');
    expect(await byId('value=NOVALUE2')).toMatchObject({ recognised: false, reason: 'unknown' });
  }, 120_000);

  it('takes feedback at both borders', async () => {
    for (const home of ['PE', 'CL'] as const) {
      const { lines, items } = feedbackOf(home, heldAt(home), aeo, new Date().toISOString());
      feedback[home].push(...lines);
      const res = await ex
        .gw(home)
        .api.post('/api/v1/feedback', { items }, { headers: bearer(BORDER_TOKEN) });
      expect(res.status, res.text.slice(0, 200)).toBe(200);
      const results = (JSON.parse(res.text) as { results: { outcome: string }[] }).results;
      expect(results.map((r) => r.outcome)).toEqual(items.map(() => 'stored'));
    }
  });

  it('reports at PE, about CL, every figure the script gives', async () => {
    // Every notification to PE's border system is delivered (or the latency to the border would move).
    await notificationsSettled(ex.store('PE'));
    const r = await getReport(ex, 'PE', { partner: 'CL', ...period });
    const side = await sideOf(script(), 'PE', Date.now());
    expect(side.toBorderMs?.lower.length).toBeGreaterThan(0);
    checkReport(r, side, period);
    sides.PE = side;
  }, 120_000);

  it('reports at CL, about PE, every figure the script gives', async () => {
    const r = await getReport(ex, 'CL', { partner: 'PE', ...period });
    const side = await sideOf(script(), 'CL', Date.now());
    checkReport(r, side, period);
    sides.CL = side;
  }, 120_000);

  it('issues both summaries once the period has ended, each as the script gives, and shows each at the other side', async () => {
    const pe = sides.PE;
    const cl = sides.CL;
    if (pe === undefined || cl === undefined) throw new Error('the reports were not checked');
    // A day ahead, the period (ending today) has ended for both sides: each issues and pushes its summary.
    const clock = () => new Date(Date.now() + DAY);
    const gw = { PE: await restartWithClock(ex, 'PE', clock), CL: await restartWithClock(ex, 'CL', clock) };
    ahead.push(gw.PE, gw.CL);
    const signed = {
      PE: await issueThroughApi(gw.PE, 'CL', period),
      CL: await issueThroughApi(gw.CL, 'PE', period),
    };
    for (const [home, partner, side] of [
      ['PE', 'CL', pe],
      ['CL', 'PE', cl],
    ] as const) {
      const summary = signed[home];
      expect(summary).toMatchObject({
        reporter: home,
        subject: partner,
        mraId: side.mraId,
        period,
        revision: 1,
      });
      checkFigures(summary.figures, side);
    }
    for (const [home, partner] of [
      ['PE', 'CL'],
      ['CL', 'PE'],
    ] as const) {
      // Home shows the summary the partner signed about home's operators, figures as signed.
      const r = await waitFor(`${partner}'s summary held at ${home}`, async () => {
        const got = await reportOf(gw[home], { partner, ...period });
        return got.outbound.partnerSummary === null ? undefined : got;
      });
      const theirs = signed[partner];
      expect(r.outbound.partnerSummary).toMatchObject({
        summaryId: theirs.summaryId,
        reporter: partner,
        subject: home,
        revision: theirs.revision,
        issuedAt: theirs.issuedAt,
      });
      expect(r.outbound.partnerSummary?.figures).toEqual(theirs.figures);
      // And its own, as signed: the same figures as the report's inbound side.
      const ours = signed[home];
      expect(r.inbound.summaryIssued).toMatchObject({
        summaryId: ours.summaryId,
        reporter: home,
        subject: partner,
      });
      expect(r.inbound.summaryIssued?.figures).toEqual(ours.figures);
      expect(r.inbound.figures).toEqual(ours.figures);
    }
  }, 180_000);

  it('counts each record when many share their facts and their latency (figures counted in the database)', async () => {
    // CL as the last test restarted it (a day ahead), on the same database.
    const cl = ahead[1];
    if (cl === undefined) throw new Error('CL was not restarted');
    const before = (await reportOf(cl, { partner: 'PE', ...period })).outbound;
    await ex.store('CL').query(
      `UPDATE outbox o SET delivered_at = h.created_at + interval '7 ms' FROM home_record h
        WHERE h.seq = o.record_seq AND o.partner = 'PE' AND o.delivered_at IS NOT NULL`,
    );
    const after = (await reportOf(cl, { partner: 'PE', ...period })).outbound;
    expect(before.deliveries.delivered).toBeGreaterThan(1);
    expect(after.records).toEqual(before.records);
    expect(after.deliveries).toEqual(before.deliveries);
    expect(after.latency.toReceiptMs).toEqual({
      count: before.latency.toReceiptMs.count,
      p50: 7,
      p95: 7,
      p99: 7,
    });
  });
});
