/**
 * The demo left running as a sandbox (`npm run demo -- --keep-running`): where everything is, written to
 * demo/tokens.json and demo/urls.json for scripts (and the README's examples) and printed for people, with a
 * lookup ready to paste; Ctrl-C stops both gateways cleanly. The files describe running gateways only: they
 * are written once both are up and removed when the demo stops.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Gateway } from '../gateway.ts';
import type { DemoClient } from './demo-api.ts';

export interface DemoUrls {
  api: string;
  partner: string;
  docs: string;
  dashboard: string;
  metrics: string;
}

export function urlsOf(g: Gateway): DemoUrls {
  return {
    api: g.apiUrl,
    partner: g.url,
    docs: `${g.apiUrl}/docs`,
    dashboard: `${g.apiUrl}/dashboard`,
    metrics: `${g.apiUrl}/metrics`,
  };
}

export interface SandboxFiles {
  tokens: string;
  urls: string;
  /** Removes both files, if they are still this run's. */
  remove(): void;
}

export function writeSandboxFiles(dir: string, clients: readonly DemoClient[]): SandboxFiles {
  const tokens = join(dir, 'tokens.json');
  const urls = join(dir, 'urls.json');
  const byAdmin = <T>(f: (c: DemoClient) => T) =>
    Object.fromEntries(clients.map((c) => [c.gateway.config.home.adminId, f(c)]));
  const tokensText = `${JSON.stringify(
    byAdmin((c) => c.tokens),
    null,
    2,
  )}\n`;
  const urlsText = `${JSON.stringify(
    byAdmin((c) => urlsOf(c.gateway)),
    null,
    2,
  )}\n`;
  // The URLs first: a reader waiting for both files finds the tokens last, once everything is written.
  writeFileSync(urls, urlsText, { mode: 0o600 });
  writeFileSync(tokens, tokensText, { mode: 0o600 });
  const mine = (path: string, text: string) => {
    try {
      return readFileSync(path, 'utf8') === text;
    } catch {
      return false;
    }
  };
  return {
    tokens,
    urls,
    remove() {
      if (mine(tokens, tokensText)) rmSync(tokens, { force: true });
      if (mine(urls, urlsText)) rmSync(urls, { force: true });
    },
  };
}

export function printSandbox(
  clients: readonly DemoClient[],
  files: SandboxFiles,
  partnerOperator: { issuer: string; aeoId: string },
  say: (line: string) => void,
): void {
  say('');
  say('== The demo keeps running ==');
  for (const c of clients) {
    const u = urlsOf(c.gateway);
    const id = c.gateway.config.home.adminId;
    say(`${id}: API ${u.api}   partners (mTLS) ${u.partner}`);
    say(`    OpenAPI UI ${u.docs}   dashboard ${u.dashboard} (sign in with a monitoring or admin token)`);
    say(`    metrics ${u.metrics} (monitoring token)`);
  }
  say(`tokens for every scope (publish, border, admin, monitoring) of each gateway: ${files.tokens}`);
  say(`the URLs above: ${files.urls}`);
  const first = clients[0]!;
  const id = first.gateway.config.home.adminId;
  say(`a border lookup at ${id}, ready to paste:`);
  say(
    `  curl -s -H "Authorization: Bearer ${first.tokens.border}" ` +
      `${first.gateway.apiUrl}/api/v1/operators/${partnerOperator.issuer}/${partnerOperator.aeoId}`,
  );
  say('webhooks that the border systems receive from now on are printed here as they arrive.');
  say('Stop with Ctrl-C: both gateways stop cleanly.');
}
