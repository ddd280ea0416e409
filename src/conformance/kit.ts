/**
 * The conformance kit: acts as partner `home` of a target gateway, with a configuration of the kit's own (its
 * signing key and chain, its TLS client certificate, the target listed as a partner with its anchors and MRA),
 * runs the checks of each section and reports one result a check. Exit 0 when every check passes, 1 when one
 * fails, 2 when the kit cannot run.
 */
import { randomBytes } from 'node:crypto';
import type { GatewayConfig } from '../config/types.ts';
import { cleanupSection, duplicatesSection, versionsSection } from './exchange.ts';
import { monitoringSection } from './monitoring.ts';
import { feedSection, snapshotSection } from './pull.ts';
import { receiptsSection } from './receipts.ts';
import { strictnessSection } from './strictness.ts';
import { transportSection, wellKnownSection } from './transport.ts';
import type { CheckResult, Kit, Section } from './types.ts';
import { createWire, WireFailure } from './wire.ts';

/** In the order they run; cleanup last, after every section that sends records. */
export const SECTIONS: readonly Section[] = [
  wellKnownSection,
  transportSection,
  strictnessSection,
  receiptsSection,
  duplicatesSection,
  versionsSection,
  feedSection,
  snapshotSection,
  monitoringSection,
  cleanupSection,
];

export interface KitOptions {
  /** The target's base URL, ending in /mra/v1. */
  target: string;
  /** Which configured partner the target is, when the URL matches none of their endpoints. */
  partner?: string | undefined;
  /** Section names to run; all when empty. Cleanup runs whenever a section that sends records ran. */
  only?: readonly string[];
  timeoutMs?: number;
}

export interface KitRun {
  target: string;
  partner: string;
  home: string;
  runId: string;
  namespace: string;
  results: CheckResult[];
  counts: { pass: number; fail: number; skip: number };
  exitCode: 0 | 1;
}

/** Why the kit cannot run (exit 2): a bad configuration or an unreachable target. */
export class CannotRun extends Error {}

export async function runConformance(config: GatewayConfig, options: KitOptions): Promise<KitRun> {
  const target = options.target.replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+.*\/mra\/v1$/.test(target)) {
    throw new CannotRun(
      `--target must be the base URL of the gateway, ending in /mra/v1 (got ${options.target})`,
    );
  }
  const sections = choose(options.only ?? []);
  const partner =
    config.partners.find((p) => (options.partner ? p.adminId === options.partner : p.endpoint === target)) ??
    (options.partner === undefined && config.partners.length === 1 ? config.partners[0] : undefined);
  if (partner === undefined) {
    throw new CannotRun(
      options.partner
        ? `partner ${options.partner} is not in the kit's configuration`
        : `no partner of the kit's configuration has the endpoint ${target}; name it with --partner`,
    );
  }
  const tls = config.server.tls;
  if (target.startsWith('https:') && tls === undefined) {
    throw new CannotRun(
      'the kit needs server.tls in its configuration: that certificate is its TLS client certificate',
    );
  }
  const signer = config.home.signers[0];
  if (signer === undefined) throw new CannotRun('the kit needs home.signing in its configuration');
  const runId = randomBytes(4).toString('hex').toUpperCase();
  const kit: Kit = {
    home: config.home.adminId,
    signer,
    target: { ...partner, endpoint: target },
    wire: createWire({ ...partner, endpoint: target }, tls, options.timeoutMs ?? 30_000),
    runId,
    namespace: `CONFTEST-${runId}-`,
    held: new Map(),
  };
  try {
    await reach(kit);
    const results: CheckResult[] = [];
    for (const section of sections) {
      try {
        results.push(...(await section.run(kit)));
      } catch (error) {
        results.push({
          section: section.name,
          id: `${section.name}.run`,
          status: 'FAIL',
          sent: `the checks of ${section.name}`,
          expected: 'answers the kit can read',
          got: `the section stopped: ${error instanceof Error ? error.message : String(error)}`,
        });
      }
    }
    const count = (s: string) => results.filter((r) => r.status === s).length;
    const counts = { pass: count('PASS'), fail: count('FAIL'), skip: count('SKIP') };
    return {
      target,
      partner: partner.adminId,
      home: kit.home,
      runId,
      namespace: kit.namespace,
      results,
      counts,
      exitCode: counts.fail > 0 ? 1 : 0,
    };
  } finally {
    await kit.wire.close();
  }
}

function choose(only: readonly string[]): Section[] {
  if (only.length === 0) return [...SECTIONS];
  const known = new Set(SECTIONS.map((s) => s.name));
  const unknown = only.filter((n) => !known.has(n));
  if (unknown.length > 0) {
    throw new CannotRun(`--only: unknown section ${unknown.join(', ')}; sections: ${[...known].join(', ')}`);
  }
  const sends = ['strictness', 'receipts', 'duplicates', 'versions'];
  const wanted = new Set(only);
  if (sends.some((n) => wanted.has(n))) wanted.add('cleanup');
  return SECTIONS.filter((s) => wanted.has(s.name));
}

/** The target answers at all, over TLS with the kit's client certificate; anything else is exit 2. */
async function reach(kit: Kit): Promise<void> {
  try {
    await kit.wire.send({ method: 'GET', path: '/.well-known/mra-gateway' });
  } catch (error) {
    const why = error instanceof WireFailure ? error.message : String(error);
    throw new CannotRun(`the target ${kit.target.endpoint} cannot be reached: ${why}`);
  }
}
