/**
 * Propagation (the speed aims of BENCHMARKS.md): decisions published at one gateway until the partners
 * have applied them. Three development administrations, each gateway its own process with its own database:
 * PE publishes through its decisions API, CL and AR receive. Outbound delivery is push only (the relay,
 * BullMQ on the machine's Redis, `POST /mra/v1/records`); the feed pull is switched off.
 *
 *   npm run bench:propagation                       phase 1 at 100 decisions/s for 20 s, phase 2 100,000 records
 *   npm run bench:propagation -- --rate 50 --seconds 10 --records 10000
 *   npm run bench:propagation -- --runs 5 --seconds 5 --beside-tests --records 0     the aim as it is judged
 *
 * Phase 1 (latency): --runs runs (default 1), each of `certify` decisions for new operators at a steady rate through
 * `POST {apiUrl}/api/v1/decisions`; for each decision and partner, the time from the API call to the arrival
 * of its notification (`benefits.started`) at the partner's border system: a webhook receiver on loopback in
 * this process, subscribed at each partner with a border-scope token (bench/propagation/webhooks.ts). As a
 * stage, the time to the moment the partner's `operator_state` holds the record (its database is polled every
 * --poll-ms). A decision not applied, or whose webhook has not come, 30 s after the last call makes the run
 * invalid. Baseline of the same run: the same requests at the same rate to a bare fastify route that echoes
 * the body, in a process of its own. The aim (bench/lib/aims.ts) is met when every run's webhook p99 at the
 * worse partner is under it; with
 * --beside-tests a vitest suite (tests/unit, or --tests) runs on the machine all the while, as on a CI machine.
 * Phase 2 (throughput): --records decisions in one bulk import (`POST {apiUrl}/api/v1/register/imports`, JSON
 * lines), then records a second until both partners hold all of them. Baseline of the same run: the raw ES256
 * verification rate of the machine (node:crypto, all cores), as in bench/inbound.ts.
 *
 * Options (argument, else environment variable):
 *   --rate R            BENCH_RATE             decisions a second in phase 1, 1 to 1000 (default 100)
 *   --seconds S         BENCH_SECONDS          duration of a latency run, 1 to 120 (default 20); 0 skips phase 1
 *   --runs N            BENCH_RUNS             latency runs, one after the other, 1 to 20 (default 1)
 *   --warm-up S         BENCH_WARM_UP          a run of S seconds before them, printed, not judged (default 3; 0: none)
 *   --beside-tests      BENCH_BESIDE_TESTS=1   run a test suite beside the latency runs (vitest, its own
 *                                              databases and Redis prefixes; restarted while runs remain)
 *   --tests PATHS       BENCH_TESTS            what that suite runs, comma-separated paths under tests/
 *                                              (default tests/unit)
 *   --partner-limit L   BENCH_PARTNER_LIMIT    each receiver's requests a minute per caller (server.rateLimitPerMinute),
 *                                              60 to 60000, and the publisher's pace under it (9/10 of it,
 *                                              outbound.requestsPerMinute); default: the settings' defaults
 *                                              (600, paced at 540): a batch at most every 111 ms per partner
 *   --records N         BENCH_RECORDS          records of phase 2, 0 to 200000 (default 100000); 0 skips it
 *   --max-minutes M     BENCH_MAX_MINUTES      phase 2 gives up after this long, 1 to 60 (default 15)
 *   --poll-ms P         BENCH_POLL_MS          how often the partners' databases are polled in phase 1,
 *                                              5 to 200 (default 20)
 *   --verify-seconds S  BENCH_VERIFY_SECONDS   duration of each raw verification measurement, 1 to 10 (default 3)
 *   --cpu-prof DIR      BENCH_CPU_PROF         write V8 CPU profiles of the three gateways into DIR
 *   BENCH_PG_URL        the PostgreSQL server (default postgres://postgres@127.0.0.1:5432/postgres); three
 *                       fresh databases are created on it and dropped at the end
 *   BENCH_REDIS_URL     the Redis server (default redis://127.0.0.1:6379); the gateways use key prefixes of
 *                       their own, and every key under them is deleted at the end
 */
import { OUTBOUND_REQUESTS_PER_MINUTE, PARTNER_RATE_PER_MINUTE, paceUnder } from '../src/config/processes.ts';
import { undoAll } from './lib/cleanup.ts';
import { otherCpuShare, showCpu } from './lib/cpu.ts';
import { fmt, line, printMachine, UNCONTROLLED } from './lib/format.ts';
import { measureRawVerify, type RawVerify } from './lib/raw-verify.ts';
import { PUBLISHER, RECEIVERS, readOptions } from './propagation/options.ts';
import { latencyRuns } from './propagation/runs.ts';
import { setUp } from './propagation/setup.ts';
import { phaseThroughput } from './propagation/throughput.ts';

async function main(): Promise<void> {
  const options = readOptions();
  let failed = false;
  try {
    const setup = await setUp(options);
    console.log('MRA gateway propagation benchmark');
    printMachine();
    line('postgresql', `${setup.pgVersion} (one database per gateway)`);
    line('redis', `${setup.redisVersion} (key prefixes of the run, deleted at the end)`);
    line('transport', 'plain HTTP on loopback (127.0.0.1), no TLS');
    line(
      'gateways',
      `${PUBLISHER} publishes, ${RECEIVERS.join(' and ')} receive; one process each; push delivery only ` +
        '(feed pull off), default outbound settings (batches of up to 500, relay tick 1 s)',
    );
    line(
      'partner limit and pace',
      options.partnerLimit === undefined
        ? `the defaults: each receiver allows ${PARTNER_RATE_PER_MINUTE} requests a minute per caller, ` +
            `${PUBLISHER} paces its batches at ${OUTBOUND_REQUESTS_PER_MINUTE} a minute to each`
        : `each receiver allows ${options.partnerLimit} requests a minute per caller (--partner-limit), ` +
            `${PUBLISHER} paces its batches at ${paceUnder(options.partnerLimit)} a minute to each`,
    );
    const result: Record<string, number | boolean> = {};

    if (options.seconds > 0) {
      const latency = await latencyRuns(setup, options);
      Object.assign(result, latency.result);
      if (latency.lost) failed = true;
    }

    if (options.records > 0) {
      const rawBefore: RawVerify = await measureRawVerify(
        setup.probe.signed,
        setup.probe.spki,
        options.verifySeconds,
      );
      const run = await phaseThroughput(setup, options);
      const rawAfter = await measureRawVerify(setup.probe.signed, setup.probe.spki, options.verifySeconds);
      const raw = (rawBefore.perSecond + rawAfter.perSecond) / 2;
      const perSecond = run.records / run.seconds;
      line(
        'phase 2 (throughput)',
        `${fmt(run.records)} certify decisions in one bulk import (JSON lines) to ${RECEIVERS.length} partners`,
      );
      line(
        '  import at PE',
        run.importSeconds === undefined || run.import === undefined
          ? 'did not finish'
          : `${fmt(run.records / run.importSeconds)} decisions/s: ${fmt(run.import.published)} published, ` +
              `${fmt(run.import.rejected)} rejected, in ${run.importSeconds.toFixed(1)} s`,
      );
      for (const p of run.partners) {
        line(
          `  held by ${p.adminId}`,
          p.seconds === undefined
            ? `${fmt(p.held)} of ${fmt(run.records)} after ${run.seconds.toFixed(0)} s (gave up)`
            : `all ${fmt(run.records)} after ${p.seconds.toFixed(1)} s`,
        );
      }
      line(
        '  records/s to both partners',
        run.complete
          ? `${fmt(perSecond)}: ${fmt(run.records)} records held by both partners ${run.seconds.toFixed(1)} s ` +
              `after the import started (${fmt(perSecond * RECEIVERS.length)} deliveries/s)`
          : `not measured: gave up after ${options.maxMinutes} min`,
      );
      line(
        '  outbox at PE',
        Object.entries(run.outbox)
          .map(([state, n]) => `${state} ${fmt(n)}`)
          .join(', '),
      );
      line(
        '  baseline: raw ES256 verify',
        `${fmt(raw)} /s on ${rawBefore.threads} worker threads (mean of ${fmt(rawBefore.perSecond)} before and ` +
          `${fmt(rawAfter.perSecond)} after phase 2, ${options.verifySeconds} s each)`,
      );
      if (run.complete) {
        line(
          '  ratio deliveries/s / verify/s',
          `${((perSecond * RECEIVERS.length) / raw).toFixed(3)} (each delivery is one signature verified at a partner)`,
        );
      }
      line('  cpu s, phase 2', showCpu(run.cpu, run.seconds));
      result.otherCpuSharePhase2 = otherCpuShare(run.cpu, run.seconds);
      result.records = run.records;
      result.complete = run.complete;
      result.recordsPerSecond = run.complete ? Math.round(perSecond) : 0;
      result.rawVerifyPerSecond = Math.round(raw);
      if (run.complete)
        result.deliveriesVerifyRatio = Number(((perSecond * RECEIVERS.length) / raw).toFixed(3));
      if (!run.complete) failed = true;
    }
    line('not controlled', UNCONTROLLED);
    console.log(`result ${JSON.stringify(result)}`);
  } finally {
    await undoAll();
  }
  if (failed) process.exitCode = 1;
}

main().catch(async (error: unknown) => {
  console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
  await undoAll();
  process.exitCode = 1;
});
