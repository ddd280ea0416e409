/**
 * The dashboard's pages: the sign-in form, and the dashboard itself, which refreshes its panels every few
 * seconds from GET /dashboard/data with the one inline script its Content-Security-Policy allows (by nonce).
 * Without script the page still shows the figures of the moment it was loaded.
 */
import type { DashboardData } from '../dashboard-data.ts';
import type { Locale } from '../figure-types.ts';
import { dashboardPanels } from './dashboard-panels.ts';
import { h } from './escape.ts';
import { formatterFor } from './format.ts';
import { page } from './layout.ts';
import { STRINGS } from './strings.ts';

/** How often the page asks for fresh data. */
export const DASHBOARD_REFRESH_MS = 5_000;
/** How long signing out waits for a refresh under way before leaving the page all the same. */
export const SIGN_OUT_WAIT_MS = 2 * DASHBOARD_REFRESH_MS;

const CSS = `
header.bar { display: flex; flex-wrap: wrap; align-items: baseline; gap: .5rem 1.5rem; }
header.bar h1 { flex: 1 1 auto; }
header.bar form { margin: 0; }
button, input { font: inherit; }
button { padding: .3rem .8rem; border: 1px solid #174a84; background: #1f5fa8; color: #fff; border-radius: 3px;
  cursor: pointer; }
form.login { display: grid; gap: .5rem; max-width: 28rem; }
form.login input[type=password] { padding: .35rem; border: 1px solid #555; border-radius: 3px; }
dl.today { grid-template-columns: max-content max-content; }
`;

/**
 * The one script: fetch the panels again, swap them in; back to the sign-in form when the session ended.
 * Signing out stops the refresh first and lets a refresh under way finish (for at most SIGN_OUT_WAIT_MS), so
 * that leaving the page cuts no request short and no refresh runs against a session being closed.
 */
function refreshScript(locale: Locale): string {
  return `(() => {
  const panels = document.getElementById('panels');
  const updated = document.getElementById('updated-at');
  const logout = document.getElementById('logout-form');
  let busy = null;
  let stopped = false;
  async function refresh() {
    if (busy !== null || stopped) return;
    busy = load();
    try { await busy; } finally { busy = null; }
  }
  async function load() {
    try {
      const response = await fetch('/dashboard/data?lang=${locale}', { credentials: 'same-origin', headers: { accept: 'application/json' } });
      if (response.status === 401) { window.location.reload(); return; }
      if (!response.ok) return;
      const body = await response.json();
      panels.innerHTML = body.html;
      updated.textContent = body.updatedAt;
      updated.setAttribute('datetime', body.data.generatedAt);
    } catch (error) {
      // The next tick tries again; a gateway restarting is no reason to stop.
    }
  }
  const timer = setInterval(refresh, ${DASHBOARD_REFRESH_MS});
  logout.addEventListener('submit', (event) => {
    if (stopped) return;
    event.preventDefault();
    stopped = true;
    clearInterval(timer);
    const waited = new Promise((resolve) => setTimeout(resolve, ${SIGN_OUT_WAIT_MS}));
    Promise.race([busy ?? Promise.resolve(), waited]).finally(() => logout.submit());
  });
})();`;
}

export function renderDashboardPage(data: DashboardData, locale: Locale, nonce: string): string {
  const f = formatterFor(locale);
  const l = locale;
  const other: Locale = locale === 'en' ? 'es' : 'en';
  const body = h`<header class="bar"><h1>${STRINGS.dashboardTitle[l]} · ${data.home}</h1><p>${STRINGS.updatedAt[l]}: <time id="updated-at" datetime="${data.generatedAt}">${f.dateTime(data.generatedAt)}</time></p><p><a href="/dashboard?lang=${other}" lang="${other}">${STRINGS.language[l]}</a></p><form id="logout-form" method="post" action="/dashboard/logout"><button type="submit" id="logout">${STRINGS.logout[l]}</button></form></header><main id="panels" aria-live="off">${dashboardPanels(data, f)}</main>`;
  return page({
    f,
    title: `${STRINGS.dashboardTitle[l]} · ${data.home}`,
    body,
    css: CSS,
    nonce,
    script: refreshScript(locale),
  });
}

/** The panels alone and the time they were taken, as the refresh puts them in the page. */
export function renderDashboardRefresh(
  data: DashboardData,
  locale: Locale,
): { html: string; updatedAt: string } {
  const f = formatterFor(locale);
  return { html: dashboardPanels(data, f).html, updatedAt: f.dateTime(data.generatedAt) };
}

export function renderLoginPage(locale: Locale, options: { failed: boolean; nonce: string }): string {
  const f = formatterFor(locale);
  const l = locale;
  const other: Locale = locale === 'en' ? 'es' : 'en';
  const error = options.failed
    ? h`<p role="alert" class="alert" id="login-error">${STRINGS.loginFailed[l]}</p>`
    : '';
  const body = h`<main><h1>${STRINGS.dashboardTitle[l]}</h1><h2>${STRINGS.loginHeading[l]}</h2>${error}<form class="login" method="post" action="/dashboard/login"><input type="hidden" name="lang" value="${locale}"><label for="token">${STRINGS.loginToken[l]}</label><input id="token" name="token" type="password" autocomplete="current-password" required maxlength="600"><p>${STRINGS.loginHelp[l]}</p><button type="submit">${STRINGS.loginSubmit[l]}</button></form><p><a href="/dashboard?lang=${other}" lang="${other}">${STRINGS.language[l]}</a></p></main>`;
  return page({
    f,
    title: `${STRINGS.loginHeading[l]} · ${STRINGS.dashboardTitle[l]}`,
    body,
    css: CSS,
    nonce: options.nonce,
  });
}
