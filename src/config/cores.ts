/**
 * The cores a gateway process may use, for its thread pools (thread-pool.ts) and `processes: auto` (processes.ts).
 *
 * They are os.availableParallelism() (the CPU affinity mask, and since libuv
 * 1.49 the cgroup CPU quota where libuv finds it), capped by the quota of the cgroup the process sees at
 * /sys/fs/cgroup: cpu.max (cgroup v2), else cpu.cfs_quota_us over cpu.cfs_period_us (v1). libuv reads the
 * quota at the path /proc/self/cgroup names, which a container without its own cgroup namespace does not
 * have under its /sys/fs/cgroup, and in v1 only when cpu and cpuacct are mounted together; a container limited
 * to 2 CPUs on a 64-core host would otherwise start 64 workers. A quota counts its whole cores, at least 1
 * (2.5 CPUs: 2), as libuv does.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Whole cores a CFS quota of `quota` µs every `period` µs allows, at least 1; undefined for none ("max", -1). */
export function quotaCores(quota: string, period: string): number | undefined {
  const q = /^\d{1,18}$/.test(quota) ? Number(quota) : Number.NaN;
  const p = /^\d{1,18}$/.test(period) ? Number(period) : Number.NaN;
  if (!(q > 0 && p > 0)) return undefined;
  return Math.max(1, Math.floor(q / p));
}

/** The cores of a cgroup v2 `cpu.max` ("<quota> <period>", or "max <period>" for none). */
export function cpuMaxCores(text: string): number | undefined {
  const [quota = '', period = ''] = text.trim().split(/\s+/);
  return quotaCores(quota, period);
}

/** A file's text, or undefined when it cannot be read (absent: not Linux, no such cgroup). */
function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The cores this process may use: `parallelism`, capped by its cgroup's CPU quota if it has one. */
export function processCores(
  parallelism: number,
  read: (path: string) => string | undefined = readText,
): number {
  const v2 = read('/sys/fs/cgroup/cpu.max');
  const quota =
    v2 !== undefined
      ? cpuMaxCores(v2)
      : quotaCores(
          read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us')?.trim() ?? '',
          read('/sys/fs/cgroup/cpu/cpu.cfs_period_us')?.trim() ?? '',
        );
  return Math.max(1, Math.min(parallelism, quota ?? parallelism));
}

let cached: number | undefined;

/** The cores this process may use, read once. */
export function usableCores(): number {
  cached ??= processCores(availableParallelism());
  return cached;
}
