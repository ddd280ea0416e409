/**
 * A gateway's start with many foreign operators (the speed aims of BENCHMARKS.md: ready in under 15 s with
 * 1,000,000, the read model under 1 GiB): started cold (the read model loaded from the evidence in PostgreSQL),
 * stopped (which writes the read model's snapshot), and started again (from the snapshot, the normal start).
 * "Ready" is /health/ready answering 200, timed from the spawn of the process; the listeners open earlier.
 *
 *   npm run bench:start                                 1,000,000 operators
 *   npm run bench:start -- --operators 200000
 *
 * Options (argument, else environment variable):
 *   --operators N   BENCH_OPERATORS   foreign operators, 1,000 to 2,000,000 (default 1,000,000)
 *   --cpu-prof DIR  a V8 CPU profile of the start from the snapshot, written into DIR when it stops
 *   BENCH_PG_URL    the PostgreSQL server (default postgres://postgres@127.0.0.1:5432/postgres); a fresh database
 *                   is created for the run and dropped at the end
 *
 * Baseline of the same run: the time this process takes to read the snapshot's bytes from PostgreSQL through
 * the same driver (the floor of a start from it: every byte must cross), and the same bytes read from a file
 * (what a file instead of a table would cost). The gateway's CPU seconds until ready are printed beside each
 * time: on a shared machine they move less. Below 1,000,000 operators the 1M figures are extrapolated: the
 * load's own time (from the gateway's log) and the memory over the empty gateway's grow linearly, the rest of
 * the start stays. Memory is the resident set over the empty gateway's, a second after ready (what the model
 * keeps) and at its highest during the start (VmHWM: what the load needed on the way). Last, the monitoring
 * report of the days that hold every generated operator is asked once (bench/lib/report-probe.ts): its figures
 * read every operator, as the monthly summary's do, and must answer well within the store's statement timeout.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { request } from 'undici';
import { AIMS, besideAim } from './lib/aims.ts';
import { cleanups, runBenchmark, undoNow } from './lib/cleanup.ts';
import { createDatabase } from './lib/database.ts';
import { aeoIdOf, fillOperators, foreignSetup } from './lib/foreign-operators.ts';
import { fmt, line, printMachine, UNCONTROLLED } from './lib/format.ts';
import { type GatewayProcess, spawnGateway, waitReady } from './lib/gateway-process.ts';
import { processCpuSeconds, vmRssBytes } from './lib/load-measure.ts';
import { intOption, pgUrlOption } from './lib/options.ts';
import { probeReport } from './lib/report-probe.ts';

const MILLION = 1_000_000;

/** The highest resident set the process has had (Linux /proc, VmHWM): the peak of its start. */
const peakRssBytes = (pid: number | undefined) => {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1]) * 1024;
};

function readOptions() {
  const { values } = parseArgs({
    options: {
      operators: { type: 'string' },
      'cpu-prof': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log('npm run bench:start -- [--operators N] [--cpu-prof DIR]   (env: BENCH_PG_URL)');
    process.exit(0);
  }
  return {
    operators: intOption(
      'operators',
      values.operators ?? process.env.BENCH_OPERATORS,
      MILLION,
      1_000,
      2_000_000,
    ),
    pgUrl: pgUrlOption(),
    cpuProfDir: values['cpu-prof'],
  };
}

interface Started {
  gateway: GatewayProcess;
  /** Seconds from the spawn to the listeners open, and to ready. */
  listening: number;
  ready: number;
  /** CPU seconds the gateway process used until ready. */
  cpu: number;
  /** The gateway's log lines (JSON), for its own account of the load. */
  lines: Record<string, unknown>[];
}

async function start(
  clPath: string,
  databaseUrl: string,
  apiUrl: string,
  cpuProfDir?: string,
): Promise<Started> {
  const t0 = performance.now();
  const env = { LOG_LEVEL: 'info' };
  const gateway = spawnGateway(clPath, { databaseUrl, env, stdout: 'pipe', cpuProfDir });
  cleanups.add(gateway.stop);
  const lines: Record<string, unknown>[] = [];
  let rest = '';
  gateway.child.stdout?.setEncoding('utf8');
  gateway.child.stdout?.on('data', (chunk: string) => {
    const all = (rest + chunk).split('\n');
    rest = all.pop() ?? '';
    for (const l of all) if (l.startsWith('{')) lines.push(JSON.parse(l) as Record<string, unknown>);
  });
  let listening = Number.NaN;
  await waitReady(
    gateway.child,
    'gateway',
    async () => {
      const res = await request(`${apiUrl}/health/ready`);
      await res.body.dump();
      if (Number.isNaN(listening)) listening = (performance.now() - t0) / 1000;
      return res.statusCode === 200;
    },
    600_000,
  );
  const ready = (performance.now() - t0) / 1000;
  return { gateway, listening, ready, cpu: processCpuSeconds(gateway.child.pid), lines };
}

const said = (lines: Record<string, unknown>[], msg: string) => lines.find((l) => l.msg === msg);

async function stop(s: Started): Promise<number> {
  const t0 = performance.now();
  await undoNow(s.gateway.stop);
  return (performance.now() - t0) / 1000;
}

/**
 * Seconds to read every part of the held snapshot, as bytes, through the pg driver, and its size; then the
 * same bytes written to a file and read back from it (from the page cache): what a file instead of a table
 * would cost.
 */
async function readSnapshotBytes(
  url: string,
): Promise<{ seconds: number; bytes: number; fileSeconds: number }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const t0 = performance.now();
    const head = (
      await c.query<{ generation: string; parts: number }>(
        'SELECT generation, parts FROM read_model_snapshot',
      )
    ).rows[0];
    const chunks: Buffer[] = [];
    for (let part = 0; part < (head?.parts ?? 0); part += 1) {
      const r = await c.query<{ bytes: Buffer }>(
        'SELECT bytes FROM read_model_snapshot_part WHERE generation = $1 AND part = $2',
        [head?.generation, part],
      );
      if (r.rows[0] !== undefined) chunks.push(r.rows[0].bytes);
    }
    const seconds = (performance.now() - t0) / 1000;
    const file = join(mkdtempSync(join(os.tmpdir(), 'mra-bench-snapshot-')), 'snapshot.bin');
    cleanups.add(() => rmSync(dirname(file), { recursive: true, force: true }));
    writeFileSync(file, Buffer.concat(chunks));
    const t1 = performance.now();
    const bytes = readFileSync(file).length;
    return { seconds, bytes, fileSeconds: (performance.now() - t1) / 1000 };
  } finally {
    await c.end();
  }
}

async function main(): Promise<void> {
  const options = readOptions();
  const started = Date.now();
  const setup = await foreignSetup('mra-bench-start-');
  const database = await createDatabase(options.pgUrl);
  cleanups.add(database.drop);

  // 1. An empty gateway: migrates the database, and gives the memory without operators.
  const empty = await start(setup.clPath, database.url, setup.apiUrl);
  await new Promise((r) => setTimeout(r, 1_000));
  const emptyRss = vmRssBytes(empty.gateway.child.pid);
  const emptyPeak = peakRssBytes(empty.gateway.child.pid);
  await stop(empty);

  // 2. The operators, generated in the database.
  const fillStart = Date.now();
  await fillOperators(database.url, options.operators, setup.template, () => {});
  const fillSeconds = (Date.now() - fillStart) / 1000;
  const admin = new pg.Client({ connectionString: database.url });
  await admin.connect();
  await admin.query('TRUNCATE read_model_snapshot CASCADE');
  await admin.end();

  // 3. Cold: no snapshot, the read model loaded from the evidence; stopping writes the snapshot.
  const cold = await start(setup.clPath, database.url, setup.apiUrl);
  await new Promise((r) => setTimeout(r, 1_000));
  const coldRss = vmRssBytes(cold.gateway.child.pid);
  const coldPeak = peakRssBytes(cold.gateway.child.pid);
  const coldStop = await stop(cold);
  const written = said(cold.lines, 'lookup read model snapshot');

  // 4. The baseline: the snapshot's bytes read from PostgreSQL by this process, and from a file.
  const baseline = await readSnapshotBytes(database.url);

  // 5. From the snapshot: the normal start.
  const warm = await start(setup.clPath, database.url, setup.apiUrl, options.cpuProfDir);
  await new Promise((r) => setTimeout(r, 1_000));
  const warmRss = vmRssBytes(warm.gateway.child.pid);
  const warmPeak = peakRssBytes(warm.gateway.child.pid);
  const probe = await request(`${setup.apiUrl}/api/v1/operators/PE/${aeoIdOf('PE', options.operators)}`, {
    headers: { authorization: `Bearer ${setup.token}` },
  });
  const answer = (await probe.body.json()) as { operator?: unknown };
  if (probe.statusCode !== 200 || answer.operator === undefined)
    throw new Error('a lookup found no operator');
  const report = await probeReport(setup.apiUrl, setup.monitoringToken, 'PE');
  const loadedFrom = said(warm.lines, 'lookup read model loaded from its snapshot');
  if (loadedFrom === undefined) {
    const why = warm.lines.find((l) => typeof l.reason === 'string')?.reason;
    const write = written ?? said(cold.lines, 'lookup read model snapshot not written');
    throw new Error(
      `the second start did not use the snapshot (${String(why)}; write: ${JSON.stringify(write)})`,
    );
  }
  await stop(warm);
  await undoNow(database.drop);

  const mib = (b: number) => b / 2 ** 20;
  const modelMiB = mib(warmRss - emptyRss);
  const scale = MILLION / options.operators;
  const extrapolated = options.operators !== MILLION;
  // The load's own time (the gateway's log) grows with the operators; the rest of the start does not.
  const loadSeconds = Number(loadedFrom.ms) / 1000;
  const ready1M = warm.ready - loadSeconds + loadSeconds * scale;
  const model1M = modelMiB * scale;
  // The gateway's CPU over the empty one's grows with the operators: at 1M, the start's CPU on a quiet machine.
  const cpu1M = warm.cpu + (warm.cpu - empty.cpu) * (scale - 1);
  const at = (s: Started) =>
    `listening ${s.listening.toFixed(1)} s, ready ${s.ready.toFixed(1)} s (${s.cpu.toFixed(1)} cpu s)`;
  console.log('MRA gateway start benchmark');
  printMachine();
  line('postgresql', database.serverVersion);
  line('operators', `${fmt(options.operators)} (generated in ${fillSeconds.toFixed(0)} s)`);
  line('empty gateway', `${at(empty)}, RSS ${mib(emptyRss).toFixed(0)} MiB`);
  const peak = (b: number) => `peak +${mib(b - emptyPeak).toFixed(0)} MiB`;
  line(
    'cold (from PostgreSQL)',
    `${at(cold)}, RSS +${mib(coldRss - emptyRss).toFixed(0)} MiB, ${peak(coldPeak)}`,
  );
  const writtenText =
    written === undefined
      ? 'no snapshot line'
      : `${(Number(written.bytes) / 2 ** 20).toFixed(1)} MiB in ${fmt(Number(written.ms))} ms`;
  line('stop (snapshot written)', `${coldStop.toFixed(1)} s; ${writtenText}`);
  line('from the snapshot', `${at(warm)}, RSS +${modelMiB.toFixed(0)} MiB, ${peak(warmPeak)}`);
  line(
    '  its load (gateway log)',
    `${fmt(Number(loadedFrom.ms))} ms: read ${loadedFrom.read} ms, decompress and decode ${loadedFrom.decode} ms (count wait ${loadedFrom.counted ?? '?'}, decompress ${loadedFrom.decompress ?? '?'}), check and catch up ${loadedFrom.catchUp} ms`,
  );
  line(
    'baseline: snapshot bytes read',
    `${baseline.seconds.toFixed(2)} s for ${mib(baseline.bytes).toFixed(1)} MiB through pg`,
  );
  line('the same bytes from a file', `${(baseline.fileSeconds * 1000).toFixed(0)} ms (page cache)`);
  const ratio = warm.ready / baseline.seconds;
  line(
    'ratio ready / bytes read',
    `${ratio.toFixed(2)} (lower is better; the rest is process start, decode, checks)`,
  );
  line(
    'speed-up over cold',
    `${(cold.ready / warm.ready).toFixed(1)} x (cpu ${(cold.cpu / warm.cpu).toFixed(1)} x)`,
  );
  const how = extrapolated ? ' (extrapolated)' : '';
  line('ready at 1,000,000', `${ready1M.toFixed(1)} s${how} ${besideAim(AIMS.startSeconds, ready1M)}`);
  line('read model at 1,000,000', `${model1M.toFixed(0)} MiB${how} ${besideAim(AIMS.readModelMiB, model1M)}`);
  line(
    'gateway cpu to ready at 1,000,000',
    `${cpu1M.toFixed(1)} cpu s${how} (PostgreSQL's own work not included)`,
  );
  line(
    'monitoring report, every operator',
    `${report.seconds.toFixed(1)} s, answer ${report.status}, ${fmt(report.held ?? 0)} held (each statement under 30 s)`,
  );
  line('not controlled', UNCONTROLLED);
  line('wall time', `${((Date.now() - started) / 1000).toFixed(0)} s`);
  console.log(
    `result ${JSON.stringify({
      operators: options.operators,
      coldReadySeconds: Number(cold.ready.toFixed(2)),
      snapshotReadySeconds: Number(warm.ready.toFixed(2)),
      emptyReadySeconds: Number(empty.ready.toFixed(2)),
      coldCpuSeconds: Number(cold.cpu.toFixed(2)),
      snapshotCpuSeconds: Number(warm.cpu.toFixed(2)),
      emptyCpuSeconds: Number(empty.cpu.toFixed(2)),
      snapshotLoadSeconds: Number(loadSeconds.toFixed(2)),
      readModelRssMiB: Math.round(modelMiB),
      coldReadModelRssMiB: Math.round(mib(coldRss - emptyRss)),
      snapshotPeakRssMiB: Math.round(mib(warmPeak - emptyPeak)),
      coldPeakRssMiB: Math.round(mib(coldPeak - emptyPeak)),
      snapshotMiB: Number(mib(baseline.bytes).toFixed(1)),
      stopSeconds: Number(coldStop.toFixed(2)),
      baselineSeconds: Number(baseline.seconds.toFixed(2)),
      fileReadSeconds: Number(baseline.fileSeconds.toFixed(3)),
      ratio: Number(ratio.toFixed(3)),
      readySeconds1M: Number(ready1M.toFixed(1)),
      readModelMiB1M: Math.round(model1M),
      snapshotCpuSeconds1M: Number(cpu1M.toFixed(1)),
      extrapolated,
      reportSeconds: Number(report.seconds.toFixed(2)),
      reportStatus: report.status,
    })}`,
  );
}

runBenchmark(main);
