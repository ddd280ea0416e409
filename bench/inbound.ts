/**
 * Inbound throughput against the machine's own signature-verification rate (the speed aims of BENCHMARKS.md): durable
 * records a second through `POST /mra/v1/records`, in batches of 500 ES256 records, divided by what
 * node:crypto verifies a second on all cores. Both figures come from the same run on the same machine.
 *
 *   npm run bench                                   19 timed batches, 3 in flight, PostgreSQL
 *   npm run bench -- --batches 10 --concurrency 4 --store both
 *
 * Each ratio is printed beside its aim (bench/lib/aims.ts): records/s at least a third of the raw verification
 * rate, and per CPU second with PostgreSQL's CPU left out at least 0.6 of it. CPU per durable record is printed
 * by process and thread group (where the time goes).
 *
 * Baseline of the same kind, same run: the same bodies posted with the same concurrency over the same transport
 * to a bare fastify route that parses the JSON and answers a small JSON (bench/inbound/bare-route.ts).
 *
 * Options (argument, else environment variable):
 *   --batches N         BENCH_BATCHES          timed batches of 500 records, 1 to 19 (default 19); one more
 *                                              untimed warm-up batch is sent first, so at most 20 are posted
 *   --concurrency C     BENCH_CONCURRENCY      batches in flight, 1 to 8 (default 3)
 *   --store KIND        BENCH_STORE            postgres (default), embedded, or both
 *   --verify-seconds S  BENCH_VERIFY_SECONDS   duration of the raw verification measurement, 1 to 10 (default 3)
 *   --mtls              BENCH_MTLS=1           HTTPS with mutual TLS instead of plain HTTP (both on loopback)
 *   --cpu-prof DIR      BENCH_CPU_PROF         write a V8 CPU profile of the receiving gateway into DIR
 *   BENCH_PG_URL        the PostgreSQL server (default postgres://postgres@127.0.0.1:5432/postgres); a fresh
 *                       database is created on it for the run and dropped at the end
 *
 * The receiving gateway runs as its own process (`src/cli/main.ts serve`), as deployed; this process signs the
 * records beforehand (not timed), posts them with the sending administration's client and verifies every
 * receipt. Everything stays on loopback.
 */
import { rmSync } from 'node:fs';
import os from 'node:os';
import { sampleRecord } from '../src/cli/samples.ts';
import { signRecord } from '../src/publishing/sign-record.ts';
import { measureBareRoute } from './inbound/bare-route.ts';
import { BATCH_SIZE, readOptions } from './inbound/options.ts';
import { type InboundRun, makeAdmins, runInbound, signBatches } from './inbound/receive.ts';
import { AIMS, besideAim } from './lib/aims.ts';
import { cleanups, runBenchmark } from './lib/cleanup.ts';
import { otherCpuShare } from './lib/cpu.ts';
import { fmt, line, printMachine, UNCONTROLLED } from './lib/format.ts';
import { measureRawVerify } from './lib/raw-verify.ts';

async function main(): Promise<void> {
  const options = readOptions();
  const cpus = os.availableParallelism();
  const pgVersion = { value: 'not used' };
  const admins = await makeAdmins(options.mtls);
  const removeDir = () => rmSync(admins.dir, { recursive: true, force: true });
  cleanups.add(removeDir);
  try {
    const signer = admins.sender.home.signers[0]!;
    const probe = await signRecord(sampleRecord('PE', 0), signer);
    const spki = new Uint8Array(signer.chain[0]!.publicKey.export({ type: 'spki', format: 'der' }));
    // Every store and the bare route take the same bodies: one warm-up batch, then the timed ones.
    const [warmUp, ...timed] = await signBatches(admins.sender, options.batches + 1);
    const batches = { warmUp: warmUp!, timed };
    // Both baselines are measured before and after the inbound runs, and averaged, so that a change in the
    // machine's load during the run moves both sides of each ratio alike.
    const rawBefore = await measureRawVerify(probe, spki, options.verifySeconds);
    const bareBefore = await measureBareRoute(admins, options.mtls, options.concurrency, batches);
    const runs: InboundRun[] = [];
    for (const kind of options.stores) runs.push(await runInbound(admins, kind, options, batches, pgVersion));
    const bareAfter = await measureBareRoute(admins, options.mtls, options.concurrency, batches);
    const rawAfter = await measureRawVerify(probe, spki, options.verifySeconds);
    const bare = {
      perSecond: (bareBefore.perSecond + bareAfter.perSecond) / 2,
      perCpuSecond: (bareBefore.perCpuSecond + bareAfter.perCpuSecond) / 2,
    };
    const raw = {
      threads: rawBefore.threads,
      perSecond: (rawBefore.perSecond + rawAfter.perSecond) / 2,
      perCpuSecond: (rawBefore.perCpuSecond + rawAfter.perCpuSecond) / 2,
    };

    const cpuRatio = (r: InboundRun) => r.accepted / r.ownCpu / raw.perCpuSecond;
    const otherCpu = (r: InboundRun) => r.cpu.find(([name]) => name === 'other processes')?.[1] ?? 0;
    const databaseCpu = (r: InboundRun) =>
      r.cpu.filter(([name]) => name.startsWith('postgresql')).reduce((sum, [, t]) => sum + t, 0);
    // As if PostgreSQL ran on another machine: the gateway's and the client's CPU only (NaN without it).
    const withoutDatabase = (r: InboundRun) =>
      databaseCpu(r) > 0 ? r.accepted / (r.ownCpu - databaseCpu(r)) / raw.perCpuSecond : Number.NaN;
    console.log('MRA gateway inbound benchmark');
    printMachine();
    line('postgresql', pgVersion.value);
    line(
      'transport',
      options.mtls
        ? 'HTTPS with mutual TLS on loopback (127.0.0.1)'
        : 'plain HTTP on loopback (127.0.0.1), no TLS',
    );
    line(
      'workload',
      `${options.batches} timed batches of ${BATCH_SIZE} ES256 records (distinct operators) after 1 warm-up batch, ` +
        `${options.concurrency} in flight`,
    );
    line(
      'raw ES256 verify (node:crypto)',
      `${fmt(raw.perSecond)} /s on ${raw.threads} worker threads (mean of ${fmt(rawBefore.perSecond)} before and ` +
        `${fmt(rawAfter.perSecond)} after the inbound runs, ${options.verifySeconds} s each)`,
    );
    line(
      'baseline: bare fastify route',
      `${fmt(bare.perSecond)} records/s (mean of ${fmt(bareBefore.perSecond)} before and ` +
        `${fmt(bareAfter.perSecond)} after the inbound runs): the same batches, ${options.concurrency} in flight, ` +
        `parsed and answered with a small JSON, ${bareBefore.rounds} and ${bareAfter.rounds} rounds of ` +
        `${options.batches}; batch latency p50 ${fmt(bareBefore.latencyMs.p50)} ms before`,
    );
    for (const r of runs) {
      const stored =
        r.storedRows === undefined ? '' : `, ${fmt(r.storedRows)} rows in inbound_record with the warm-up`;
      line(
        `inbound durable records (${r.kind})`,
        `${fmt(r.perSecond)} /s: ${fmt(r.accepted)} accepted of ${fmt(r.records)} in ${r.seconds.toFixed(2)} s` +
          `${stored}; batch latency p50 ${fmt(r.latencyMs.p50)} ms, max ${fmt(r.latencyMs.max)} ms`,
      );
      const wallRatio = r.perSecond / raw.perSecond;
      line(`ratio (${r.kind})`, `${wallRatio.toFixed(3)} ${besideAim(AIMS.inboundRatio, wallRatio)}`);
      line(
        `ratio to bare route (${r.kind})`,
        `${(r.perSecond / bare.perSecond).toFixed(3)} (inbound durable records/s over the bare route's records/s)`,
      );
      if (r.cpu.length > 0) {
        const others = otherCpu(r);
        const own = r.cpu.filter(([name]) => name !== 'other processes');
        line(
          `  cpu s, timed phase (${r.kind})`,
          `${own.map(([name, t]) => `${name} ${t.toFixed(2)}`).join(', ')}; together ${r.ownCpu.toFixed(2)}, ` +
            `other processes on the machine ${others.toFixed(2)}, of ${(r.seconds * cpus).toFixed(2)}`,
        );
        line(
          `  ratio per cpu second (${r.kind})`,
          `${cpuRatio(r).toFixed(3)} ${besideAim(AIMS.inboundRatio, cpuRatio(r))}: ${fmt(r.accepted / r.ownCpu)} ` +
            `records per cpu second of the processes above against ${fmt(raw.perCpuSecond)} verifications per ` +
            'cpu second (not moved by other load)',
        );
        line(
          `  same, to bare route (${r.kind})`,
          `${(r.accepted / r.ownCpu / bare.perCpuSecond).toFixed(3)}: against ${fmt(bare.perCpuSecond)} records ` +
            'per cpu second of the bare route and its client',
        );
        if (databaseCpu(r) > 0) {
          const without = withoutDatabase(r);
          line(
            `  same, database cpu left out`,
            `${without.toFixed(3)} ${besideAim(AIMS.inboundRatioWithoutDatabase, without)} (as if PostgreSQL ran ` +
              'on another machine)',
          );
        }
        // Where the time goes: CPU per durable record by process and thread group.
        line(
          `  µs per record (${r.kind})`,
          `${own.map(([name, t]) => `${name} ${fmt((t * 1e6) / r.accepted)}`).join(', ')}; together ` +
            `${fmt((r.ownCpu * 1e6) / r.accepted)}, against ${fmt(1e6 / raw.perCpuSecond)} for one raw verification`,
        );
      }
    }
    line('not controlled', UNCONTROLLED);
    console.log(
      `result ${JSON.stringify({
        rawVerifyPerSecond: Math.round(raw.perSecond),
        rawVerifyPerCpuSecond: Math.round(raw.perCpuSecond),
        bareRecordsPerSecond: Math.round(bare.perSecond),
        bareRecordsPerCpuSecond: Math.round(bare.perCpuSecond),
        ...Object.fromEntries(
          runs.flatMap((r) => [
            [`${r.kind}RecordsPerSecond`, Math.round(r.perSecond)],
            [`${r.kind}Ratio`, Number((r.perSecond / raw.perSecond).toFixed(3))],
            [`${r.kind}BareRatio`, Number((r.perSecond / bare.perSecond).toFixed(3))],
            [`${r.kind}CpuRatio`, Number(cpuRatio(r).toFixed(3))],
            [`${r.kind}RecordsPerCpuSecond`, Math.round(r.accepted / r.ownCpu)],
            [`${r.kind}BareCpuRatio`, Number((r.accepted / r.ownCpu / bare.perCpuSecond).toFixed(3))],
            [`${r.kind}OtherCpuShare`, otherCpuShare(r.cpu, r.seconds)],
            // Left out, not null, where it could not be measured (the embedded store, no /proc).
            ...(Number.isFinite(withoutDatabase(r))
              ? [[`${r.kind}CpuRatioWithoutDatabase`, Number(withoutDatabase(r).toFixed(3))]]
              : []),
          ]),
        ),
      })}`,
    );
    const short = runs.filter(
      (r) =>
        r.accepted !== r.records || (r.storedRows ?? r.accepted + BATCH_SIZE) !== r.accepted + BATCH_SIZE,
    );
    if (short.length > 0) {
      console.error(`not every record was accepted and stored: ${short.map((r) => r.kind).join(', ')}`);
      process.exitCode = 1;
    }
  } finally {
    removeDir();
    cleanups.delete(removeDir);
  }
}

runBenchmark(main);
