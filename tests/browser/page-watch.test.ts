/**
 * The page watcher of the browser tests (tests/support/browser.ts) sets apart one failure only: a request the
 * browser cut short because its page was leaving. A request aborted while the page stays, and a navigation
 * that fails, still count as failures. Pages served from loopback by a server of the test's own, whose
 * `/slow` never answers while the page is there.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserUnavailable, launchBrowser, type PageWatch, watchPage } from '../support/browser.ts';

const unavailable = browserUnavailable();

const PAGES: Record<string, string> = {
  // Leaves for /next once its fetch of /slow is under way.
  '/leaving': `<script>fetch('/slow').catch(() => {}); setTimeout(() => { location.href = '/next'; }, 200);</script>`,
  // Cancels its own fetch of /slow and stays.
  '/staying': `<script>const c = new AbortController(); fetch('/slow', { signal: c.signal }).catch(() => {});
    setTimeout(() => c.abort(), 200);</script>`,
  '/next': '<p>next</p>',
};

let server: Server;
let base: string;
let browser: Browser;

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 600 && !check(); i++) await new Promise((r) => setTimeout(r, 50));
  if (!check()) throw new Error(`not within 30 s: ${what}`);
}

async function watched(path: string): Promise<{ watch: PageWatch; url: () => string }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const watch = watchPage(page);
  await page.goto(`${base}${path}`);
  return { watch, url: () => page.url() };
}

describe.skipIf(unavailable !== undefined)('the page watcher', () => {
  beforeAll(async () => {
    server = createServer((request, response) => {
      // /slow is held until the page goes or the server closes.
      if (request.url === '/slow') return;
      const body = PAGES[request.url ?? ''];
      response.writeHead(body === undefined ? 404 : 200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(
        `<!doctype html><html lang="en"><title>t</title><link rel="icon" href="data:,">${body ?? 'none'}`,
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('sets apart a request cut short by the page leaving', async () => {
    const { watch, url } = await watched('/leaving');
    await until('the page left and its fetch was cut short', () => watch.abortedByLeaving.length > 0);
    expect(url()).toBe(`${base}/next`);
    expect(watch.abortedByLeaving).toEqual([`GET ${base}/slow: net::ERR_ABORTED`]);
    expect(watch.failedRequests).toEqual([]);
  });

  it('counts a request aborted while the page stays, and an answer in error', async () => {
    const { watch } = await watched('/staying');
    await until('the fetch was aborted', () => watch.failedRequests.length > 0);
    expect(watch.failedRequests).toEqual([`GET ${base}/slow: net::ERR_ABORTED`]);
    expect(watch.abortedByLeaving).toEqual([]);

    const missing = await watched('/missing');
    expect(missing.watch.failedRequests).toEqual([`${base}/missing: 404`]);
  });
});
