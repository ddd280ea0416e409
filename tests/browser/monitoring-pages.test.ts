/**
 * The monitoring pages in a real browser (Debian's chromium through playwright-core), read from PE in a real
 * exchange with CL: the HTML report through its route in English and Spanish (its security headers, charts
 * drawn, no console error or failed request, no serious accessibility violation, printed on A4 as several
 * pages with nothing wider than the printable width), the report of a period both sides have signed
 * summaries for, and the live dashboard (sign-in through the form, panels and charts with data, a refresh
 * that shows a new event, a sign-out while a refresh is under way; a wrong token refused with 401 and no
 * data; the data endpoint refused without a session; sign-in attempts bounded).
 */
import { createHash } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOGIN_ATTEMPTS_PER_MINUTE } from '../../src/http/routes/dashboard.ts';
import { STRINGS } from '../../src/monitoring/html/strings.ts';
import {
  artifactPath,
  browserUnavailable,
  drawnCharts,
  launchBrowser,
  runAxe,
  seriousViolations,
  watchPage,
} from '../support/browser.ts';
import { signOutDuringRefresh } from '../support/dashboard-sign-out.ts';
import { API_TOKENS, bearer } from '../support/exchange.ts';
import { expectProblem, httpRequest } from '../support/gateway.ts';
import {
  chartDay,
  dashboardMoment,
  ddmmyyyy,
  figureValue,
  openReport,
} from '../support/monitoring-page-reads.ts';
import {
  exchangeSummaries,
  type IssuedSummary,
  type MonitoringPair,
  postFeedback,
  startMonitoringPair,
  utcDay,
} from '../support/monitoring-pair.ts';
import { expectPrintsOnA4 } from '../support/monitoring-print.ts';

const unavailable = browserUnavailable();
const DAY_MS = 86_400_000;
/** LOOKUPS (1,234) and the summaries' lookup totals as each locale writes them. */
const WRITTEN = {
  lookups: { en: '1,234', es: '1.234' },
  partnerTotal: { en: '1,507', es: '1.507' },
  partnerRecognised: { en: '1,500', es: '1.500' },
  ourTotal: { en: '2,004', es: '2.004' },
} as const;

let pair: MonitoringPair;
let browser: Browser;
const contexts: BrowserContext[] = [];

async function newPage(options: Parameters<Browser['newContext']>[0] = {}): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 }, ...options });
  contexts.push(context);
  return context.newPage();
}

describe.skipIf(unavailable !== undefined)('monitoring pages in chromium', () => {
  beforeAll(async () => {
    pair = await startMonitoringPair();
    browser = await launchBrowser();
  }, 300_000);

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    await pair?.close();
  }, 120_000);

  describe.each(['en', 'es'] as const)('the HTML report (%s)', (locale) => {
    it('is served with its policy, draws its charts, passes axe, prints on A4', async () => {
      const page = await newPage({ extraHTTPHeaders: bearer(API_TOKENS.monitoring) });
      const watch = watchPage(page);
      // The last seven days up to today, by the clock the gateways run on, taken now.
      const now = Date.now();
      const from = utcDay(now - 6 * DAY_MS);
      const to = utcDay(now);
      await openReport(page, pair.pe.gateway.apiUrl, { from, to, locale });

      const charts = await drawnCharts(page);
      for (const id of ['chart-lookups', 'chart-records', 'chart-benefits', 'chart-latency']) {
        const chart = charts.find((c) => c.id === id);
        expect(chart, id).toBeDefined();
        expect(chart?.bars, id).toBeGreaterThan(0);
        expect(chart?.maxArea, id).toBeGreaterThan(0);
      }
      // Each chart's accessible name is its title, and its figures are in a table as well.
      await expect(page.getByRole('img', { name: STRINGS.chartLookups[locale] }).count()).resolves.toBe(1);
      expect(await page.locator('figure#chart-lookups table tbody tr').count()).toBe(7);

      // The locale's formats: 1,234 lookups in English, 1.234 in Spanish; dates as dd/mm/yyyy.
      expect(await figureValue(page, 'inbound.figures.lookups.total')).toBe(WRITTEN.lookups[locale]);
      await expect(
        page.locator('header dd', { hasText: `${ddmmyyyy(from)} – ${ddmmyyyy(to)}` }).count(),
      ).resolves.toBe(1);
      // The partner's operators held: the four CL certified.
      expect(await figureValue(page, 'inbound.operators.held')).toBe('4');
      // No summary was issued or received for the period, and the page says so.
      await expect(page.getByText(STRINGS.noSummaryIssued[locale]).count()).resolves.toBe(1);
      await expect(page.getByText(STRINGS.noPartnerSummary[locale]).count()).resolves.toBe(1);

      expect(seriousViolations(await runAxe(page))).toEqual([]);
      await page.screenshot({ path: artifactPath(`report-${locale}.png`), fullPage: true });
      await expectPrintsOnA4(page, `report-${locale}.pdf`);

      expect(watch.consoleErrors).toEqual([]);
      expect(watch.failedRequests).toEqual([]);
      expect(watch.abortedByLeaving).toEqual([]);
    });
  });

  describe('the HTML report of a period with signed summaries both ways', () => {
    let day: string;
    let partner: IssuedSummary;
    let ours: IssuedSummary;
    const digestOf = (jws: string) => createHash('sha256').update(jws, 'utf8').digest('base64url');

    beforeAll(async () => {
      // A past day out of the seven days the other report covers, so that its planted lookups stay apart.
      day = utcDay(Date.now() - 10 * DAY_MS);
      ({ partner, ours } = await exchangeSummaries(pair, day));
    }, 180_000);

    it.each(['en', 'es'] as const)('shows both summaries with their figures (%s)', async (locale) => {
      const page = await newPage({ extraHTTPHeaders: bearer(API_TOKENS.monitoring) });
      const watch = watchPage(page);
      await openReport(page, pair.pe.gateway.apiUrl, { from: day, to: day, locale });

      // CL's signed summary about PE's operators: its handle and its figures as CL signed them.
      expect(partner.summary).toMatchObject({
        reporter: 'CL',
        subject: 'PE',
        period: { from: day, to: day },
      });
      await expect(page.getByText(partner.summary.summaryId, { exact: true }).count()).resolves.toBe(1);
      await expect(page.getByText(digestOf(partner.jws), { exact: true }).count()).resolves.toBe(1);
      expect(await figureValue(page, 'outbound.partnerSummary.figures.lookups.total')).toBe(
        WRITTEN.partnerTotal[locale],
      );
      expect(await figureValue(page, 'outbound.partnerSummary.figures.lookups.recognised')).toBe(
        WRITTEN.partnerRecognised[locale],
      );
      expect(await figureValue(page, 'outbound.partnerSummary.figures.lookups.notRecognised')).toBe('7');
      // Ours about CL's operators: its handle, and the border figures it signed.
      expect(ours.summary).toMatchObject({ reporter: 'PE', subject: 'CL', period: { from: day, to: day } });
      await expect(page.getByText(ours.summary.summaryId, { exact: true }).count()).resolves.toBe(1);
      await expect(page.getByText(digestOf(ours.jws), { exact: true }).count()).resolves.toBe(1);
      expect(await figureValue(page, 'inbound.figures.lookups.total')).toBe(WRITTEN.ourTotal[locale]);
      await expect(page.getByText(STRINGS.noSummaryIssued[locale]).count()).resolves.toBe(0);
      await expect(page.getByText(STRINGS.noPartnerSummary[locale]).count()).resolves.toBe(0);
      const lookups = (await drawnCharts(page)).find((c) => c.id === 'chart-lookups');
      expect(lookups?.bars).toBeGreaterThan(0);
      expect(lookups?.maxArea).toBeGreaterThan(0);

      expect(seriousViolations(await runAxe(page))).toEqual([]);
      await page.screenshot({ path: artifactPath(`report-summaries-${locale}.png`), fullPage: true });
      await expectPrintsOnA4(page, `report-summaries-${locale}.pdf`);
      expect(watch.consoleErrors).toEqual([]);
      expect(watch.failedRequests).toEqual([]);
      expect(watch.abortedByLeaving).toEqual([]);
    });
  });

  describe('the dashboard', () => {
    const base = () => pair.pe.gateway.apiUrl;

    it('refuses a wrong token with 401 and shows no data', async () => {
      const page = await newPage();
      await page.goto(`${base()}/dashboard?lang=es`);
      await expect(page.locator('#token').count()).resolves.toBe(1);
      for (const token of ['not-a-token-of-this-gateway-000000', API_TOKENS.publishOnly]) {
        await page.fill('#token', token);
        const [response] = await Promise.all([
          page.waitForResponse((r) => r.url().endsWith('/dashboard/login')),
          page.click('button[type=submit]'),
        ]);
        expect(response.status()).toBe(401);
        await page.waitForLoadState();
        await expect(page.locator('#login-error').textContent()).resolves.toBe(STRINGS.loginFailed.es);
        await expect(page.locator('#panels').count()).resolves.toBe(0);
        expect(await page.content()).not.toContain('data-partner');
      }
      const data = await page.request.get(`${base()}/dashboard/data`);
      expect(data.status()).toBe(401);
      expect(await page.context().cookies()).toEqual([]);
    });

    it('answers the data endpoint without a session with a 401 problem', async () => {
      expectProblem(await httpRequest(`${base()}/dashboard/data`, { method: 'GET' }), 401, 'UNAUTHORIZED');
      const forged = { cookie: `mra_dashboard=${'A'.repeat(43)}` };
      expectProblem(
        await httpRequest(`${base()}/dashboard/data`, { method: 'GET', headers: forged }),
        401,
        'UNAUTHORIZED',
      );
      // A bearer token is no session either: the dashboard is for browsers.
      expectProblem(
        await httpRequest(`${base()}/dashboard/data`, {
          method: 'GET',
          headers: bearer(API_TOKENS.monitoring),
        }),
        401,
        'UNAUTHORIZED',
      );
    });

    it('signs in through the form, shows the panels, refreshes, signs out', async () => {
      const page = await newPage({ locale: 'es-ES' });
      const watch = watchPage(page);
      // No lang: the browser's Accept-Language (es-ES) chooses Spanish.
      const first = await page.goto(`${base()}/dashboard`);
      expect(first?.status()).toBe(200);
      expect(await page.getAttribute('html', 'lang')).toBe('es-ES');
      await page.fill('#token', API_TOKENS.monitoring);
      await Promise.all([page.waitForURL(/\/dashboard\?lang=es$/), page.click('button[type=submit]')]);
      await page.locator('#panels').waitFor();
      const [cookie] = await page.context().cookies();
      expect(cookie).toMatchObject({
        name: 'mra_dashboard',
        httpOnly: true,
        sameSite: 'Strict',
        // The whole listener: an admin's session also opens the queue view at /queues.
        path: '/',
      });

      const partnerRow = page.locator('tr[data-partner="CL"]');
      await expect(partnerRow.count()).resolves.toBe(1);
      const partnerText = (await partnerRow.textContent()) ?? '';
      expect(partnerText).toMatch(/\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}:\d{2} UTC/);
      expect(partnerText).toContain(STRINGS.inSync.es);
      await expect(
        page.locator('tr[data-outbox="CL"] td[data-state="delivered"]').textContent(),
      ).resolves.toBe('3');

      // Lookups reach the store every few seconds: the page's own refresh brings them, on the day counted.
      await expect
        .poll(async () => (await chartDay(page, 'chart-recognition', pair.lookupsDay))?.[0], {
          timeout: 60_000,
          interval: 500,
        })
        .toBe(WRITTEN.lookups.es);
      // "Now" on the page is the gateway's clock when it drew the panels, whatever day that is.
      const moment = await dashboardMoment(page);
      const drawnOn = moment.generatedAt.slice(0, 10);
      expect(moment.updatedText).toBe(`${ddmmyyyy(drawnOn)} ${moment.generatedAt.slice(11, 19)} UTC`);
      expect(moment.todayLookups).toBe(moment.lookupsThatDay);
      if (drawnOn === pair.lookupsDay) expect(moment.todayLookups).toBe(WRITTEN.lookups.es);

      const charts = await drawnCharts(page);
      for (const id of ['chart-recognition', 'chart-benefits', 'chart-records', 'chart-latency']) {
        const chart = charts.find((c) => c.id === id);
        expect(chart?.bars, id).toBeGreaterThan(0);
        expect(chart?.maxArea, id).toBeGreaterThan(0);
      }
      expect(seriousViolations(await runAxe(page))).toEqual([]);
      await page.screenshot({ path: artifactPath('dashboard-es.png'), fullPage: true });

      // A new event shows without reloading the page, on the day of the event.
      const at = new Date(Date.now() - 60_000).toISOString();
      const appliedOn = async () => (await chartDay(page, 'chart-benefits', at.slice(0, 10)))?.[0];
      await expect.poll(appliedOn, { timeout: 60_000, interval: 500 }).toBeDefined();
      const before = Number(await appliedOn());
      await page.evaluate('window.notReloaded = true');
      await postFeedback(
        pair.pe,
        [{ aeoId: pair.clOperators[0]?.aeoId ?? '', benefit: 'priority', applied: true }],
        at,
      );
      await expect.poll(appliedOn, { timeout: 60_000, interval: 500 }).toBe(String(before + 1));
      expect(await page.evaluate('window.notReloaded === true')).toBe(true);

      // Sign out while a refresh is under way: the page stops refreshing, lets that refresh finish, then leaves.
      const signOut = await signOutDuringRefresh(page);
      expect(signOut.status).toBe(303);
      expect(signOut.order).toEqual(['refresh answered', 'sign-out sent']);
      expect(page.url()).toMatch(/\/dashboard\?lang=es$/);
      expect(await page.context().cookies()).toEqual([]);
      const after = await httpRequest(`${base()}/dashboard/data`, {
        method: 'GET',
        headers: { cookie: `${cookie?.name}=${cookie?.value}` },
      });
      expectProblem(after, 401, 'UNAUTHORIZED');
      expect(watch.consoleErrors).toEqual([]);
      expect(watch.failedRequests).toEqual([]);
      expect(watch.abortedByLeaving).toEqual([]);
    });

    it('bounds sign-in attempts with the rate limiter', async () => {
      // A loopback address of its own: the limit is per client address, and no other test signs in from it.
      const from = new Agent({ localAddress: '127.0.0.77' });
      try {
        const attempt = () =>
          httpRequest(`${base()}/dashboard/login`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: 'token=wrong-token-wrong-token-wrong&lang=en',
            dispatcher: from,
          });
        const statuses: number[] = [];
        for (let i = 0; i < LOGIN_ATTEMPTS_PER_MINUTE; i++) statuses.push((await attempt()).status);
        expect(statuses).toEqual(Array(LOGIN_ATTEMPTS_PER_MINUTE).fill(401));
        expectProblem(await attempt(), 429, 'RATE_LIMITED');
      } finally {
        await from.close();
      }
    });
  });
});
