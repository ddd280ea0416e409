/**
 * The world of the partner fault cases (faults/partner*.fault.ts): PE delivers to CL through a TCP proxy
 * (tcp-proxy.ts) and, behind it, an HTTP fault partner (fault-partner.ts) in front of CL's real gateway; PE's
 * webhooks reach the border receiver through a second TCP proxy. PE's log lines are kept for the cases to read.
 */
import { createLogger } from '../../src/log.ts';
import { type Exchange, outboxOf, waitFor } from './delivery.ts';
import { API_TOKENS, bearer, freePorts } from './exchange.ts';
import { type FaultPartner, startFaultPartner } from './fault-partner.ts';
import { heldCounts, makeFaultExchange, publishMany, subscribe } from './fault-world.ts';
import { httpRequest, postTo } from './gateway.ts';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';
import { startReceiver, type WebhookReceiver } from './webhook-receiver.ts';

/** The attempts PE makes of a delivery before it is dead. */
export const ATTEMPTS = 6;

type RowTest = (r: { attempts: number; lastError: string | null }) => boolean;
/** How many of a call's outbox rows pass a test. */
export type RowCount = (test: RowTest) => Promise<number>;

/** Started by `start` (in a file's beforeAll) and closed by `close` (in its afterAll). */
export class PartnerWorld {
  ex!: Exchange;
  proxy!: TcpProxy;
  partner!: FaultPartner;
  hookProxy!: TcpProxy;
  receiver!: WebhookReceiver;
  readonly logLines: Record<string, unknown>[] = [];

  async start(): Promise<void> {
    const [proxyPort, faultPort] = (await freePorts(2)) as [number, number];
    this.ex = await makeFaultExchange({
      outbound: { attempts: ATTEMPTS, backoffMs: 100, maxBackoffMs: 1_600, requestTimeoutMs: 1_500 },
      edit: (id, raw) => {
        if (id === 'PE')
          raw.partners.find((p) => p.adminId === 'CL')!.endpoint = `http://127.0.0.1:${proxyPort}/mra/v1`;
      },
    });
    this.partner = await startFaultPartner(faultPort, () => this.ex.gw('CL').url);
    this.proxy = await startTcpProxy(() => faultPort, { port: proxyPort });
    this.receiver = await startReceiver();
    this.hookProxy = await startTcpProxy(() => Number(new URL(this.receiver.url('/')).port));
    await this.ex.start('CL');
    await this.ex.start(
      'PE',
      createLogger('info', { write: (line: string) => void this.logLines.push(JSON.parse(line)) }),
    );
    await subscribe(this.ex.gw('PE').gateway.apiUrl, this.hookProxy.url('/border'));
  }

  async close(): Promise<void> {
    await this.ex?.close();
    await this.proxy?.close();
    await this.hookProxy?.close();
    await this.partner?.close();
    await this.receiver?.stop();
  }

  /**
   * Publishes `n` decisions and waits until each of their rows is delivered or dead. `during` runs alongside the
   * publishing, given a count of this call's rows matching a test (rows after the outbox's high-water mark).
   */
  async publishAndSettle(n: number, during?: (count: RowCount) => Promise<void>) {
    const { ex, partner } = this;
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
  async lastNotificationId(): Promise<number> {
    const [row] = await this.ex
      .store('PE')
      .query<{ id: string | null }>('SELECT max(id)::text AS id FROM notification');
    return Number(row?.id ?? 0);
  }

  /** Notification rows after `mark` whose last failure passes `test`. */
  async notificationsFailed(mark: number, test: (failure: string) => boolean): Promise<number> {
    const rows = await this.ex
      .store('PE')
      .query<{ last_error: string }>(
        'SELECT last_error FROM notification WHERE id > $1 AND last_error IS NOT NULL',
        [mark],
      );
    return rows.filter((r) => test(r.last_error)).length;
  }

  /** The most attempts any notification row after `mark` took. */
  async notificationAttempts(mark: number): Promise<number> {
    const [row] = await this.ex
      .store('PE')
      .query<{ n: number | null }>('SELECT max(attempts)::int AS n FROM notification WHERE id > $1', [mark]);
    return Number(row?.n ?? 0);
  }

  /** How many of the rows of `ids` pass `test`. */
  async rowsWith(ids: readonly string[], test: RowTest): Promise<number> {
    const set = new Set(ids);
    return (await outboxOf(this.ex.store('PE'), 'CL')).filter((r) => set.has(r.recordId) && test(r)).length;
  }

  replay(body: unknown) {
    return postTo(`${this.ex.gw('PE').gateway.apiUrl}/api/v1/deliveries/replay`, body, {
      headers: bearer(API_TOKENS.operator),
    });
  }

  async fetchDead(): Promise<number[]> {
    const res = await httpRequest(
      `${this.ex.gw('PE').gateway.apiUrl}/api/v1/deliveries?state=dead&partner=CL`,
      {
        method: 'GET',
        headers: bearer(API_TOKENS.operator),
      },
    );
    return (JSON.parse(res.text) as { deliveries: { id: number }[] }).deliveries.map((d) => d.id);
  }
}
