/**
 * Who holds a data folder's lock (data-dir-lock.ts), in facts that tell whether that process is still the one
 * that wrote them: pid, host, and where the system shows them, boot id, PID namespace and process start time.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

export interface LockHolder {
  pid: number;
  hostname: string;
  startedAt: string;
  /** The kernel's boot id: a pid means nothing across a reboot. */
  bootId?: string;
  /** The PID namespace: a pid means nothing in another container. */
  pidNamespace?: string;
  /** The process's start time in clock ticks since boot: the same pid later is another process. */
  processStart?: string;
}

/** Whether process `pid` is alive on this machine. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

let selfFacts: Omit<LockHolder, 'startedAt'> | undefined;

/** What this process writes into a lock it takes. */
export function thisProcess(): LockHolder {
  selfFacts ??= {
    pid: process.pid,
    hostname: hostname(),
    ...optional('bootId', () => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()),
    ...optional('pidNamespace', () => readlinkSync('/proc/self/ns/pid')),
    ...optional('processStart', () => processStart(process.pid)),
  };
  return { ...selfFacts, startedAt: new Date().toISOString() };
}

function optional<K extends string>(key: K, read: () => string | undefined): Partial<Record<K, string>> {
  try {
    const value = read();
    return value === undefined || value === '' ? {} : ({ [key]: value } as Record<K, string>);
  } catch {
    return {};
  }
}

/** Field 22 of /proc/<pid>/stat (after the command name, which may hold spaces and parentheses). */
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}
