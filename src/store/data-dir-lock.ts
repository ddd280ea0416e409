/**
 * One gateway process per embedded data folder (docs/threats.md 77). PGlite keeps the database in memory and writes
 * it back to the folder; two processes on one folder each believe they own it, and what the first one to stop
 * wrote is lost when the second stops. So the folder is locked before anything opens it: `gateway.lock`,
 * created whole and atomically (written aside, then hard-linked into place, which fails if it exists), holding
 * who holds it. A second process is refused, naming the holder.
 *
 * A lock left by a process that is gone is taken over, with a log line. "Gone" is decided where it can be: on
 * the same machine and PID namespace, by the pid being dead or now another process (its start time differs),
 * or by the machine having restarted since (its boot id); a lock written from another host or container cannot
 * be checked that way, so its holder touches the file every HEARTBEAT_MS and it counts as gone only when not
 * touched for STALE_AFTER_MS.
 */
import { randomBytes } from 'node:crypto';
import {
  linkSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { GatewayError } from '../errors.ts';
import { alive, type LockHolder, processStart, thisProcess } from './lock-holder.ts';

export const LOCK_FILE = 'gateway.lock';
export const HEARTBEAT_MS = 15_000;
export const STALE_AFTER_MS = 120_000;

/** Who holds a lock; the optional members are Linux facts that tell a dead or reused pid apart. */
export interface DataDirLock {
  readonly path: string;
  release(): void;
}

export interface LockOptions {
  /** Told when a stale lock is taken over. */
  onTakeover?: (stale: LockHolder, why: string) => void;
}

/** Lock files this process holds: opening one folder twice in one process is refused too. */
const heldHere = new Set<string>();

export function lockDataDir(dataDir: string, options: LockOptions = {}): DataDirLock {
  try {
    return lockOnce(dataDir, options);
  } catch (error) {
    if (error instanceof GatewayError) throw error;
    // A folder that cannot be created, read or written: the configuration names a place the gateway cannot use.
    const why = error instanceof Error ? error.message : String(error);
    throw new GatewayError('CONFIG_INVALID', `/storage/dataDir: ${dataDir} cannot be used: ${why}`, {
      cause: error,
    });
  }
}

function lockOnce(dataDir: string, options: LockOptions): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  // One name per folder, however it was spelt (relative, through a symbolic link).
  const path = join(realpathSync(dataDir), LOCK_FILE);
  const me = thisProcess();
  const text = `${JSON.stringify(me)}\n`;
  // Bounded: each round either takes the lock, refuses, or removed one stale lock that another process may
  // have replaced in between.
  for (let attempt = 0; attempt < 5; attempt += 1) {
    if (create(path, text)) return held(path, text);
    const found = read(path);
    if (found === undefined) continue; // removed between the two calls
    const why = staleness(found.holder, found.mtimeMs, me, path);
    if (why === undefined) throw lockedBy(found.holder, found.mtimeMs, me, path);
    if (takeOver(path, found.text)) options.onTakeover?.(found.holder, why);
  }
  throw new GatewayError(
    'STORE_LOCKED',
    `${path}: could not take the lock; another process keeps replacing it`,
  );
}

function held(path: string, text: string): DataDirLock {
  heldHere.add(path);
  const timer = setInterval(() => {
    try {
      const now = new Date();
      utimesSync(path, now, now);
    } catch {
      // Removed under us; nothing a heartbeat can mend, and the store keeps working.
    }
  }, HEARTBEAT_MS);
  timer.unref();
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    clearInterval(timer);
    heldHere.delete(path);
    process.removeListener('exit', release);
    // Only our own lock: a file that is not ours any more belongs to whoever replaced it.
    try {
      if (readFileSync(path, 'utf8') === text) unlinkSync(path);
    } catch {
      // Already gone.
    }
  };
  // A process that ends without closing its store still frees the folder when it can.
  process.once('exit', release);
  return { path, release };
}

/** Filesystems without hard links (some network and desktop-VM mounts) say so with one of these. */
const NO_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

function create(path: string, text: string): boolean {
  const aside = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(aside, text, { mode: 0o644 });
  try {
    linkSync(aside, path);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (code === 'EEXIST') return false;
    if (!NO_LINKS.has(code)) throw error;
  } finally {
    unlinkSync(aside);
  }
  // Exclusive create instead: as safe against a second holder, but a reader may see the file before its text
  // and then refuses to start rather than take it over.
  try {
    writeFileSync(path, text, { flag: 'wx', mode: 0o644 });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

function read(path: string): { holder: LockHolder; text: string; mtimeMs: number } | undefined {
  let text: string;
  let mtimeMs: number;
  try {
    // lstat: a link is judged as what stands here, never as what it points to (which may be anyone's file).
    const stat = lstatSync(path);
    if (!stat.isFile())
      throw notALockFile(
        path,
        stat.isDirectory() ? 'a directory' : stat.isSymbolicLink() ? 'a symbolic link' : 'a special file',
      );
    mtimeMs = stat.mtimeMs;
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return { holder: parseHolder(text, path), text, mtimeMs };
}

function notALockFile(path: string, what: string): GatewayError {
  return new GatewayError(
    'STORE_LOCKED',
    `${path} is not a regular file (${what}), so not a gateway lock; remove it once no gateway uses ${path.slice(0, -LOCK_FILE.length - 1)}`,
  );
}

function parseHolder(text: string, path: string): LockHolder {
  try {
    const value = JSON.parse(text) as Partial<LockHolder>;
    if (
      typeof value.pid === 'number' &&
      Number.isSafeInteger(value.pid) &&
      value.pid > 0 &&
      typeof value.hostname === 'string' &&
      typeof value.startedAt === 'string'
    ) {
      return value as LockHolder;
    }
  } catch {
    // Reported below.
  }
  // Lock files are only ever created whole, so this one was written by something else: not ours to remove.
  throw new GatewayError(
    'STORE_LOCKED',
    `${path} exists but is not a gateway lock; remove it once no gateway uses ${path.slice(0, -LOCK_FILE.length - 1)}`,
  );
}

/** Why `holder`'s lock is stale, or undefined while its process may be alive. */
function staleness(holder: LockHolder, mtimeMs: number, me: LockHolder, path: string): string | undefined {
  const sameHost = holder.hostname === me.hostname;
  if (sameHost && holder.bootId !== undefined && me.bootId !== undefined && holder.bootId !== me.bootId) {
    return 'written before this machine restarted';
  }
  const sameView = sameHost && holder.bootId === me.bootId && holder.pidNamespace === me.pidNamespace;
  if (!sameView) {
    const idleMs = Date.now() - mtimeMs;
    return idleMs > STALE_AFTER_MS ? `not touched for ${Math.round(idleMs / 1000)} s` : undefined;
  }
  if (holder.pid === me.pid) {
    // This very process (a store opened twice), or an earlier life of it in a restarted container.
    if (heldHere.has(path)) return undefined;
    if (holder.processStart !== undefined && holder.processStart === me.processStart) return undefined;
    return 'written by an earlier process with this pid';
  }
  if (!alive(holder.pid)) return 'its process is not running';
  const start = processStart(holder.pid);
  if (holder.processStart !== undefined && start !== undefined && start !== holder.processStart) {
    return 'its pid now belongs to another process';
  }
  return undefined;
}

/**
 * Removes a stale lock, unless it changed since it was judged: it is moved aside first (atomic), and put back if
 * what was moved is not what was judged (another process took it over in between).
 */
function takeOver(path: string, judged: string): boolean {
  const aside = `${path}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    renameSync(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  const moved = readFileSync(aside, 'utf8');
  if (moved === judged) {
    unlinkSync(aside);
    return true;
  }
  try {
    linkSync(aside, path);
  } catch {
    // Someone else holds the path now; the loop reads and judges it.
  }
  unlinkSync(aside);
  return false;
}

function lockedBy(holder: LockHolder, mtimeMs: number, me: LockHolder, path: string): GatewayError {
  if (heldHere.has(path)) {
    return new GatewayError('STORE_LOCKED', `the data folder is already open in this process: ${path}`);
  }
  const here = holder.hostname === me.hostname && holder.pidNamespace === me.pidNamespace;
  const where = here
    ? ''
    : ` on host ${holder.hostname}${holder.hostname === me.hostname ? ', another container' : ''}`;
  const after = here
    ? 'Stop that process first.'
    : `Stop that process first; this host cannot see it, so the lock counts as abandoned once it has not been ` +
      `touched for ${STALE_AFTER_MS / 1000} s (last touched ${Math.round((Date.now() - mtimeMs) / 1000)} s ago), ` +
      'or remove the lock file once that process is known to be gone.';
  return new GatewayError(
    'STORE_LOCKED',
    `the data folder is in use by another gateway process (pid ${holder.pid}${where}, since ${holder.startedAt}): ` +
      `${path}. ${after}`,
  );
}
