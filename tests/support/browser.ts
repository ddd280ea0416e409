/**
 * Debian's chromium driven by playwright-core, for the tests of the monitoring pages: launch (or the reason it
 * cannot), the page's console errors and failed requests, axe-core run inside the page, the print layout
 * measured against A4, and artefacts (screenshots, PDFs) kept in test-artifacts/.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { type Browser, chromium, type Page, type Request } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** A4 less the report's print margins (15 mm each side), in CSS pixels: 180 mm at 96 px per inch. */
export const A4_PRINTABLE_WIDTH_PX = Math.floor((180 / 25.4) * 96);

/** Why the browser tests cannot run here, or undefined when they can. Printed by the test that skips. */
export function browserUnavailable(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  const reason = `${CHROMIUM} is missing (apt-get install chromium): browser tests skipped`;
  console.log(reason);
  return reason;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 60_000 });
}

export interface PageWatch {
  consoleErrors: string[];
  failedRequests: string[];
  /** Requests cut short (net::ERR_ABORTED) because the page had begun to leave: not failures of the page. */
  abortedByLeaving: string[];
}

/**
 * Collects what a page reports as wrong: console errors, uncaught errors, requests that failed or erred. One
 * failure alone is set apart: a request aborted after the main frame began a navigation that was requested
 * after the request itself, which the browser cancels because the document that made it is going away.
 * Every other failure, an abort included, counts.
 */
export function watchPage(page: Page): PageWatch {
  const watch: PageWatch = { consoleErrors: [], failedRequests: [], abortedByLeaving: [] };
  // Main-frame navigations requested so far; each request remembers how many there were when it started.
  let navigations = 0;
  const startedAt = new WeakMap<Request, number>();
  page.on('request', (request) => {
    startedAt.set(request, navigations);
    if (request.isNavigationRequest() && request.frame() === page.mainFrame()) navigations += 1;
  });
  page.on('console', (message) => {
    if (message.type() === 'error') watch.consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => watch.consoleErrors.push(error.message));
  page.on('requestfailed', (request) => {
    const errorText = request.failure()?.errorText ?? 'failed';
    const line = `${request.method()} ${request.url()}: ${errorText}`;
    const started = startedAt.get(request);
    const leftBehind = errorText === 'net::ERR_ABORTED' && started !== undefined && navigations > started;
    const isOwnNavigation = request.isNavigationRequest() && request.frame() === page.mainFrame();
    if (leftBehind && !isOwnNavigation) watch.abortedByLeaving.push(line);
    else watch.failedRequests.push(line);
  });
  page.on('response', (response) => {
    if (response.status() >= 400) watch.failedRequests.push(`${response.url()}: ${response.status()}`);
  });
  return watch;
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/** Runs axe-core in the page (evaluated through the debugging protocol, so the page's CSP does not block it). */
export async function runAxe(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: unknown[] }> } }).axe;
    const result = await axe.run();
    return (
      result.violations as {
        id: string;
        impact: string | null;
        help: string;
        nodes: { target: unknown[] }[];
      }[]
    ).map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.map((n) => n.target.join(' ')),
    }));
  });
}

/** The serious and critical ones: what the pages must never have. */
export function seriousViolations(violations: readonly AxeViolation[]): AxeViolation[] {
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

export interface PrintBox {
  /** The element: its tag, and its id or the id of the figure or section it is in. */
  what: string;
  left: number;
  right: number;
}

export interface PrintLayout {
  scrollWidth: number;
  /** Every chart (svg), figure and table of the page, laid out at print media on A4's printable width. */
  boxes: PrintBox[];
  charts: number;
}

/** The page laid out for print (print media) on A4's printable width: where each chart and table lies. */
export async function printLayout(page: Page): Promise<PrintLayout> {
  await page.emulateMedia({ media: 'print' });
  await page.setViewportSize({ width: A4_PRINTABLE_WIDTH_PX, height: 1_000 });
  // Page code as text: the test project is typed for Node, without the DOM.
  return page.evaluate<PrintLayout>(`(() => {
    const named = (e) => {
      const holder = e.closest('[id]');
      return e.tagName.toLowerCase() + (holder === null ? '' : '#' + holder.id);
    };
    const boxes = [...document.querySelectorAll('svg, table, figure, dl')]
      .filter((e) => e.getClientRects().length > 0)
      .map((e) => {
        const box = e.getBoundingClientRect();
        return { what: named(e), left: box.left, right: box.right };
      });
    return {
      scrollWidth: document.documentElement.scrollWidth,
      boxes,
      charts: document.querySelectorAll('svg').length,
    };
  })()`);
}

/** The boxes that do not lie within the printable width (from 0 to A4_PRINTABLE_WIDTH_PX), half a pixel allowed. */
export function outsidePrintableWidth(layout: PrintLayout): PrintBox[] {
  return layout.boxes.filter((b) => b.left < -0.5 || b.right > A4_PRINTABLE_WIDTH_PX + 0.5);
}

/**
 * The number of pages of a PDF as Chromium writes it: one `/Type /Page` dictionary per page (the page tree's
 * nodes are `/Type /Pages`). Chromium does not put page dictionaries in compressed object streams.
 */
export function pdfPageCount(pdf: Buffer): number {
  return pdf.toString('latin1').match(/\/Type\s*\/Page(?![A-Za-z])/g)?.length ?? 0;
}

/** The page count the PDF's page tree declares: the `/Count` of its root, the largest of them. */
export function pdfDeclaredPageCount(pdf: Buffer): number {
  const counts = [...pdf.toString('latin1').matchAll(/\/Count\s+(\d+)/g)].map((m) => Number(m[1]));
  return Math.max(0, ...counts);
}

export function artifactPath(name: string): string {
  const dir = join(process.cwd(), 'test-artifacts');
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}

/** SVG charts of the page with their bar count and the largest bar's area: a drawn chart has both above 0. */
export async function drawnCharts(page: Page): Promise<{ id: string; bars: number; maxArea: number }[]> {
  return page.evaluate<{ id: string; bars: number; maxArea: number }[]>(`
    [...document.querySelectorAll('figure.chart')].map((figure) => {
      const areas = [...figure.querySelectorAll('svg rect.bar')].map((r) => {
        const box = r.getBoundingClientRect();
        return box.width * box.height;
      });
      return { id: figure.id, bars: areas.length, maxArea: Math.max(0, ...areas) };
    })`);
}
