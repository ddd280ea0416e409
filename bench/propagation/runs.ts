/**
 * Phase 1 as the aim reads it: --runs latency runs of --seconds each at --rate, optionally beside a test suite
 * (--beside-tests), each run's p99 to the border receiver's webhook judged against the aim and the runs' p99s
 * shown as a distribution. The record applied at the partner, before its webhook, is printed as a stage.
 */

import { AIMS, besideAim, meets, PROPAGATION_AIM_RATE, showAim } from '../lib/aims.ts';
import { otherCpuShare, showCpu } from '../lib/cpu.ts';
import { fmt, line } from '../lib/format.ts';
import { type Distribution, distribution, ms, showDistribution } from '../lib/stats.ts';
import { type SuiteReport, startTestsBeside, WARM_UP_MS } from './beside-tests.ts';
import { baselineEcho } from './echo.ts';
import { type LatencyRun, phaseLatency } from './latency.ts';
import { DRAIN_MS, type Options, PUBLISHER, sleep } from './options.ts';
import type { Setup } from './setup.ts';
import { startWebhookReceiver, subscribe, type WebhookArrivals } from './webhooks.ts';

const aim = AIMS.propagationP99Ms;

/** A partner's webhook p99 in a run; a decision never applied or never notified is infinitely late. */
export const webhookP99 = (p: LatencyRun['partners'][number]) =>
  p.missing > 0 || p.webhookMissing > 0 ? Number.POSITIVE_INFINITY : p.webhook.p99;
/** The worse partner's webhook p99 of a run: the figure the aim is judged by. */
const worstP99 = (run: LatencyRun) => Math.max(...run.partners.map(webhookP99));

export interface LatencyOutcome {
  result: Record<string, number | boolean>;
  /** A decision was not applied, or its webhook did not arrive, within the drain time: the run is not valid. */
  lost: boolean;
}

export async function latencyRuns(setup: Setup, options: Options): Promise<LatencyOutcome> {
  const echo = await baselineEcho(options);
  const hooks = await startWebhookReceiver(setup.receivers.map((n) => n.adminId));
  const unsubscribe: (() => Promise<void>)[] = [];
  let tests: ReturnType<typeof startTestsBeside> | undefined;
  const runs: LatencyRun[] = [];
  let suite: SuiteReport | undefined;
  try {
    for (const node of setup.receivers) {
      unsubscribe.push(await subscribe(node.apiUrl, setup.borderToken, hooks.url(node.adminId), PUBLISHER));
    }
    tests = options.besideTests === undefined ? undefined : startTestsBeside(options.besideTests);
    if (tests !== undefined) await sleep(WARM_UP_MS);
    if (options.warmUpSeconds > 0) {
      // A gateway at this rate has been running: compiled code, pooled connections. The first decisions of a fresh
      // one pay for both; shown here, not judged.
      const warm = await phaseLatency(
        setup,
        { ...options, seconds: options.warmUpSeconds },
        hooks,
        options.runs * options.rate * options.seconds,
      );
      line(
        'warm-up',
        `${fmt(warm.decisions)} decisions in ${options.warmUpSeconds} s, not counted: worse partner's webhook p99 ` +
          `${ms(worstP99(warm))} ms`,
      );
    }
    for (let r = 0; r < options.runs; r++) {
      const run = await phaseLatency(setup, options, hooks, r * options.rate * options.seconds);
      runs.push(run);
      printRun(run, options, r);
    }
  } finally {
    suite = await tests?.stop();
    await endWebhooks(hooks, unsubscribe);
  }

  const worst = runs.map(worstP99);
  const meeting = worst.filter((p99) => meets(aim, p99) === true).length;
  const p99s: Distribution = distribution(worst);
  const pooled = (pick: (run: LatencyRun) => number[]) => distribution(runs.flatMap(pick));
  if (options.runs > 1) {
    line(
      `${options.runs} runs of ${options.seconds} s`,
      `worse partner's p99 by run: ${worst.map(ms).join(', ')} ms; ${meeting} of ${options.runs} runs ` +
        `meeting the aim (${showAim(aim)})`,
    );
    line(
      '  p99s of the runs',
      `min ${ms(Math.min(...worst))} ms, median ${ms(p99s.p50)} ms, max ${ms(p99s.max)} ms`,
    );
    for (const [i, p] of setup.receivers.entries()) {
      line(
        `  all runs, webhook at ${p.adminId}`,
        showDistribution(pooled((run) => run.partners[i]!.webhookMs)),
      );
      line(
        `  all runs, applied at ${p.adminId}`,
        showDistribution(pooled((run) => run.partners[i]!.appliedMs)),
      );
    }
  }
  const allMet = meeting === runs.length;
  line(
    '  aim',
    `every run's p99 ${showAim(aim)} at ${PROPAGATION_AIM_RATE}/s: ` +
      `${allMet ? 'met' : 'not met'}` +
      (options.rate === PROPAGATION_AIM_RATE ? '' : ` (this run's rate is ${options.rate}/s)`) +
      "; measured to the notification's arrival at the partner's border webhook receiver, as PRODUCT.md counts",
  );
  line(
    '  beside a test suite',
    suite === undefined
      ? 'no (--beside-tests runs one)'
      : `${suite.command}: started ${suite.started} times, ${suite.passed} passed, ${suite.failed} failed, ` +
          `${suite.stopped} stopped at the end (its cpu is in "other processes")`,
  );
  line(
    '  baseline: fastify echo',
    `${showDistribution(echo.latency)}; achieved ${echo.achievedRate.toFixed(1)}/s`,
  );
  const worstOfAll = Math.max(...worst);
  line(
    '  ratio p99 / echo p99',
    `${(worstOfAll / echo.latency.p99).toFixed(1)} (worst run's worse partner's webhook p99 over the echo p99)`,
  );

  const result: Record<string, number | boolean> = {};
  for (const [i, p] of setup.receivers.entries()) {
    // Over several runs: the worst run's figures, the ones the aim is judged by.
    result[`latency${p.adminId}P50Ms`] = Math.round(
      Math.max(...runs.map((run) => run.partners[i]!.applied.p50)),
    );
    result[`latency${p.adminId}P99Ms`] = Math.round(
      Math.max(...runs.map((run) => run.partners[i]!.applied.p99)),
    );
    result[`webhook${p.adminId}P50Ms`] = Math.round(
      Math.max(...runs.map((run) => run.partners[i]!.webhook.p50)),
    );
    const hookP99 = Math.max(...runs.map((run) => webhookP99(run.partners[i]!)));
    if (Number.isFinite(hookP99)) result[`webhook${p.adminId}P99Ms`] = Math.round(hookP99);
    result[`webhookMissing${p.adminId}`] = runs.reduce((n, run) => n + run.partners[i]!.webhookMissing, 0);
  }
  // The figure the aim is judged by: the worst run's worse partner (absent when a webhook never came).
  if (Number.isFinite(worstOfAll)) result.webhookP99Ms = Math.round(worstOfAll);
  result.runs = runs.length;
  result.runsMeetingAim = meeting;
  if (runs.length > 1) result.medianRunP99Ms = Math.round(p99s.p50);
  result.besideTests = suite !== undefined;
  result.otherCpuSharePhase1 = Math.max(...runs.map((run) => otherCpuShare(run.cpu, run.seconds)));
  result.achievedRate = Number(Math.min(...runs.map((run) => run.achievedRate)).toFixed(1));
  result.echoP99Ms = Number(echo.latency.p99.toFixed(1));
  if (Number.isFinite(worstOfAll)) result.p99EchoRatio = Number((worstOfAll / echo.latency.p99).toFixed(1));
  result.latencyAimMet = allMet;
  return {
    result,
    lost: runs.some((run) => run.partners.some((p) => p.missing > 0 || p.webhookMissing > 0)),
  };
}

function printRun(run: LatencyRun, options: Options, r: number): void {
  const label = options.runs > 1 ? `run ${r + 1} of ${options.runs}` : 'phase 1 (latency)';
  line(
    label,
    `${fmt(run.decisions)} certify decisions at ${options.rate}/s for ${options.seconds} s through the ` +
      `decisions API; achieved ${run.achievedRate.toFixed(1)}/s`,
  );
  line('  decisions API answer', showDistribution(run.api));
  for (const p of run.partners) {
    line(
      `  webhook at ${p.adminId}`,
      `${showDistribution(p.webhook)} ${besideAim(aim, webhookP99(p))}` +
        (p.webhookMissing > 0 ? `; ${fmt(p.webhookMissing)} not arrived within ${DRAIN_MS / 1000} s` : ''),
    );
    line(
      `  applied at ${p.adminId}`,
      showDistribution(p.applied) +
        (p.missing > 0 ? `; ${fmt(p.missing)} not applied within ${DRAIN_MS / 1000} s` : ''),
    );
    line(`  received at ${p.adminId}`, showDistribution(p.received));
    const pp = (d: Distribution) => `${ms(d.p50)} / ${ms(d.p99)}`;
    line(
      `  stages to ${p.adminId}, p50 / p99 ms`,
      `call to claimed by relay ${pp(p.stages.enqueued)} (API answer to claimed ${pp(p.stages.answeredToClaim)}); claimed to received ${pp(p.stages.transfer)}; ` +
        `received to seen applied ${pp(p.stages.apply)}; call to receipt kept ${pp(p.stages.settled)}; ` +
        `receipt kept to next claim ${pp(p.stages.turnaround)} (${fmt(p.stages.turnaround.count)} batches); ` +
        `received to webhook ${pp(p.stages.notified)}`,
    );
    const n = p.stages.notification;
    line(
      `  webhook stages at ${p.adminId}, p50 / p99 ms`,
      `received to notification claimed ${pp(n.claimed)}; claimed to webhook arrived ${pp(n.posted)}; ` +
        `webhook arrived to row settled ${pp(n.settled)}`,
    );
  }
  line('  cpu s', showCpu(run.cpu, run.seconds));
}

/**
 * Removes the subscriptions (phase 2 runs without webhooks, as it always has) and stops the receiver; a
 * subscription that cannot be removed is said, not thrown, so that an earlier error stays the one reported.
 */
async function endWebhooks(
  hooks: WebhookArrivals,
  unsubscribe: readonly (() => Promise<void>)[],
): Promise<void> {
  for (const remove of unsubscribe) {
    await remove().catch((error: unknown) => {
      console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
    });
  }
  await hooks.close();
  if (hooks.others > 0 || hooks.repeats > 0)
    line(
      '  webhook receiver',
      `${fmt(hooks.repeats)} repeated notifications, ${fmt(hooks.others)} other requests`,
    );
}
