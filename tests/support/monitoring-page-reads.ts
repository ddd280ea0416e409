/**
 * Figures read off the monitoring pages in the browser, by what the page itself says they are: a report row
 * by the definition its label links to, a day of a dashboard chart by its date, and the moment the dashboard
 * last drew its panels (the gateway's clock, from the page's own `<time datetime>`).
 */
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { anchorOf } from '../../src/monitoring/html/figures.ts';
import { REPORT_CSP } from '../../src/monitoring/html/report-html.ts';
import { STRINGS } from '../../src/monitoring/html/strings.ts';

/** dd/mm/yyyy, as both locales write a date. */
export const ddmmyyyy = (date: string): string => date.split('-').reverse().join('/');

/** The value cell of the report row whose label links to the figure's definition. */
export async function figureValue(page: Page, id: string): Promise<string> {
  const row = page.locator('tr', { has: page.locator(`th a[href="#${anchorOf(id)}"]`) });
  const count = await row.count();
  if (count !== 1) throw new Error(`${count} rows of figure ${id}`);
  return (await row.locator('td').first().textContent()) ?? '';
}

/** The cells of a dashboard chart's table on one UTC day, or undefined while the page has no such day. */
export async function chartDay(page: Page, chartId: string, day: string): Promise<string[] | undefined> {
  return page.evaluate<string[] | undefined>(`(() => {
    const rows = [...document.querySelectorAll(${JSON.stringify(`figure#${chartId} tbody tr`)})];
    const row = rows.find((r) => r.querySelector('th')?.textContent === ${JSON.stringify(ddmmyyyy(day))});
    return row === undefined ? undefined : [...row.querySelectorAll('td')].map((td) => td.textContent);
  })()`);
}

export interface DashboardMoment {
  /** When the panels on the page were taken, by the gateway's clock (the `datetime` of #updated-at). */
  generatedAt: string;
  /** The same moment as the page writes it. */
  updatedText: string;
  todayLookups: string;
  /** The lookups cell of the chart's row for the day of generatedAt. */
  lookupsThatDay: string | undefined;
}

/** What the dashboard shows for "now", read in one go so that no refresh falls in between. */
export async function dashboardMoment(page: Page): Promise<DashboardMoment> {
  return page.evaluate<DashboardMoment>(`(() => {
    const time = document.getElementById('updated-at');
    const generatedAt = time?.getAttribute('datetime') ?? '';
    const date = generatedAt.slice(0, 10).split('-').reverse().join('/');
    const rows = [...document.querySelectorAll('figure#chart-recognition tbody tr')];
    const row = rows.find((r) => r.querySelector('th')?.textContent === date);
    return {
      generatedAt,
      updatedText: time?.textContent ?? '',
      todayLookups: document.getElementById('today-lookups')?.textContent ?? '',
      lookupsThatDay: row?.querySelector('td')?.textContent ?? undefined,
    };
  })()`);
}

/**
 * Opens a gateway's HTML report of CL for the period, as the page's context authorises it, and checks the
 * answer: 200, HTML, its Content-Security-Policy and nosniff, the locale's language and title, and its inline
 * style in force under that policy.
 */
export async function openReport(
  page: Page,
  apiUrl: string,
  query: { from: string; to: string; locale: 'en' | 'es' },
): Promise<void> {
  const { from, to, locale } = query;
  const response = await page.goto(
    `${apiUrl}/api/v1/monitoring/report?partner=CL&from=${from}&to=${to}&format=html&lang=${locale}`,
  );
  expect(response?.status()).toBe(200);
  const headers = response?.headers() ?? {};
  expect(headers['content-type']).toMatch(/^text\/html/);
  expect(headers['content-security-policy']).toBe(REPORT_CSP);
  expect(headers['content-security-policy']).toContain("default-src 'none'");
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(await page.getAttribute('html', 'lang')).toBe(locale === 'en' ? 'en-GB' : 'es-ES');
  expect(await page.title()).toContain(STRINGS.reportTitle[locale]);
  // Section headings carry the report's rule: the inline style applies under the policy.
  const rule = await page.evaluate<string>(
    `getComputedStyle(document.querySelector('h2')).borderBottomStyle`,
  );
  expect(rule).toBe('solid');
}
