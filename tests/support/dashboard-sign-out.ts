/**
 * Signing out of the dashboard while one of its refreshes is under way: the next refresh is held at the
 * network, the sign-out button pressed, and only then is the refresh let through. The order in which the
 * browser saw the refresh answered and the sign-out sent tells whether the page waited for its refresh or
 * cut it short by leaving.
 */
import type { Page } from 'playwright-core';

export async function signOutDuringRefresh(page: Page): Promise<{ order: string[]; status: number }> {
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let signalHeld: () => void = () => {};
  const held = new Promise<void>((resolve) => {
    signalHeld = resolve;
  });
  await page.route('**/dashboard/data?*', async (route) => {
    signalHeld();
    await released;
    await route.continue();
  });
  // The page refreshes every few seconds on its own: wait for its next refresh to be under way.
  await held;
  const order: string[] = [];
  page.on('response', (r) => {
    if (r.url().includes('/dashboard/data')) order.push('refresh answered');
  });
  page.on('request', (r) => {
    if (r.url().endsWith('/dashboard/logout')) order.push('sign-out sent');
  });
  const signedOut = page.waitForResponse((r) => r.url().endsWith('/dashboard/logout'));
  await page.click('#logout');
  release();
  const status = (await signedOut).status();
  await page.locator('#token').waitFor();
  return { order, status };
}
