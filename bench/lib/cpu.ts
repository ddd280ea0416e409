/**
 * Where the CPU goes during a timed phase, from /proc (Linux, with the database server on this machine): each
 * process's main thread, its libuv pool (WebCrypto, receipt signing), its signature-verifying worker threads,
 * V8's helpers (GC), the PostgreSQL processes, this process, and the rest of the machine.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Database } from './database.ts';

export type CpuSample = Map<string, number>;

const CLOCK_TICK_S = 0.01;

function threadTicks(pid: number, into: CpuSample, prefix: string): void {
  const dir = `/proc/${pid}/task`;
  if (!existsSync(dir)) return;
  for (const tid of readdirSync(dir)) {
    try {
      const stat = readFileSync(`${dir}/${tid}/stat`, 'utf8');
      // comm may hold spaces; the fields after it are fixed: utime is the 14th, stime the 15th.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = Number(fields[11]) + Number(fields[12]);
      const comm = readFileSync(`${dir}/${tid}/comm`, 'utf8').trim();
      const group =
        comm === 'libuv-worker'
          ? 'libuv pool'
          : comm === 'verify-worker'
            ? 'verify workers'
            : comm === 'MainThread'
              ? 'main thread'
              : 'other';
      const key = `${prefix} ${group}`;
      into.set(key, (into.get(key) ?? 0) + ticks);
    } catch {
      // the thread ended between the listing and the read
    }
  }
}

/** Busy time of the whole machine (every process), from the first line of /proc/stat. */
function machineTicks(into: CpuSample): void {
  const [first] = readFileSync('/proc/stat', 'utf8').split('\n', 1);
  const f = (first ?? '').trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
  const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
  into.set(MACHINE, busy);
}

const MACHINE = 'machine';

/** A process to account for, by its pid, under `label` (e.g. `gateway`). */
export interface Watched {
  pid: number | undefined;
  label: string;
}

/**
 * The watched processes, then this one (`bench client`), then the PostgreSQL processes serving the databases
 * (a shared process is counted once however many databases are given).
 */
export async function cpuSample(
  watched: readonly Watched[],
  databases: readonly Database[],
): Promise<CpuSample> {
  const sample: CpuSample = new Map();
  if (process.platform !== 'linux') return sample;
  machineTicks(sample);
  for (const { pid, label } of watched) if (pid !== undefined) threadTicks(pid, sample, label);
  threadTicks(process.pid, sample, 'bench client');
  const seen = new Set<number>();
  for (const database of databases) {
    for (const { pid, shared } of await database.serverPids()) {
      if (seen.has(pid)) continue;
      seen.add(pid);
      threadTicks(pid, sample, shared ? 'postgresql shared' : 'postgresql backends');
    }
  }
  return sample;
}

export /** CPU seconds by process and thread group, then what the rest of the machine used in the same time. */
function cpuDelta(before: CpuSample, after: CpuSample): [string, number][] {
  const keys = new Set([...before.keys(), ...after.keys()]);
  keys.delete(MACHINE);
  const merged = new Map<string, number>();
  for (const k of keys) {
    // PostgreSQL's processes are summed whole, whatever their threads are called.
    const name = k.startsWith('postgresql backends')
      ? 'postgresql backends'
      : k.startsWith('postgresql shared')
        ? 'postgresql shared (WAL writer, checkpointer)'
        : k;
    const delta = ((after.get(k) ?? 0) - (before.get(k) ?? 0)) * CLOCK_TICK_S;
    merged.set(name, (merged.get(name) ?? 0) + delta);
  }
  const accounted = [...merged.values()].reduce((sum, t) => sum + t, 0);
  const machine = ((after.get(MACHINE) ?? 0) - (before.get(MACHINE) ?? 0)) * CLOCK_TICK_S;
  if (before.has(MACHINE)) merged.set('other processes', Math.max(0, machine - accounted));
  return [...merged].filter(([, seconds]) => seconds > 0.005);
}

/** CPU seconds by process (threads summed), in the order of the sample, plus the rest of the machine. */
export function cpuByProcess(before: CpuSample, after: CpuSample): [string, number][] {
  const merged = new Map<string, number>();
  for (const [name, seconds] of cpuDelta(before, after)) {
    const key = name.startsWith('postgresql')
      ? 'postgresql'
      : name.replace(/ (main thread|libuv pool|verify workers|other)$/, '');
    merged.set(key, (merged.get(key) ?? 0) + seconds);
  }
  return [...merged];
}

/** `name seconds, …` and the CPU seconds the machine had in `seconds` of wall time. */
export const showCpu = (cpu: [string, number][], seconds: number) =>
  `${cpu.map(([name, t]) => `${name} ${t.toFixed(1)}`).join(', ')} (of ${(seconds * availableParallelism()).toFixed(1)})`;

/** The share of the machine's CPU that other processes took in `seconds` of wall time (0 to 1, 2 decimals). */
export function otherCpuShare(cpu: [string, number][], seconds: number): number {
  const others = cpu.find(([name]) => name === 'other processes')?.[1] ?? 0;
  return Number((others / (seconds * availableParallelism())).toFixed(2));
}
