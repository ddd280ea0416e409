/**
 * The process entry sizes libuv's thread pool before anything starts it (src/config/thread-pool.ts): at least one
 * thread per core for the verification of partners' signatures, libuv's 4 on a smaller machine, and the
 * operator's UV_THREADPOOL_SIZE whenever it is set.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cpuMaxCores, processCores, quotaCores } from '../../src/config/cores.ts';
import { threadPoolSize, verifyThreadCount } from '../../src/config/thread-pool.ts';
import { GatewayError } from '../../src/errors.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('threadPoolSize', () => {
  it('gives one thread per core, never fewer than libuv’s own 4', () => {
    expect(threadPoolSize({}, 2)).toBe('4');
    expect(threadPoolSize({}, 4)).toBe('4');
    expect(threadPoolSize({}, 16)).toBe('16');
  });

  it('keeps what the operator set, even below the number of cores', () => {
    expect(threadPoolSize({ UV_THREADPOOL_SIZE: '2' }, 16)).toBe('2');
    expect(threadPoolSize({ UV_THREADPOOL_SIZE: '64' }, 2)).toBe('64');
    expect(threadPoolSize({ UV_THREADPOOL_SIZE: '' }, 8)).toBe('8');
  });

  it('gives each of a cluster’s processes its share of the cores, never fewer than 4', () => {
    expect(threadPoolSize({}, 64, 4)).toBe('16');
    expect(threadPoolSize({}, 17, 4)).toBe('5');
    expect(threadPoolSize({}, 16, 16)).toBe('4');
    expect(threadPoolSize({ UV_THREADPOOL_SIZE: '32' }, 16, 16)).toBe('32');
  });

  it('forks workers with their share, or with what the operator set before the primary sized its own pool', () => {
    const script = `
      import { availableParallelism } from 'node:os';
      import { workerThreadPoolSize } from './src/config/thread-pool.ts';
      console.log(JSON.stringify({ worker: workerThreadPoolSize(availableParallelism()), own: process.env.UV_THREADPOOL_SIZE }));`;
    const run = (env: NodeJS.ProcessEnv) =>
      JSON.parse(
        execFileSync(process.execPath, ['--input-type=module', '-e', script], {
          cwd: ROOT,
          env: { ...env, NODE_OPTIONS: '' },
          encoding: 'utf8',
        }),
      ) as { worker: string; own: string };
    const { UV_THREADPOOL_SIZE: _, ...rest } = process.env;
    // A process per core: the primary's own pool is one per core, each worker's libuv's 4.
    expect(run(rest).worker).toBe('4');
    expect(run({ ...rest, UV_THREADPOOL_SIZE: '7' })).toEqual({ worker: '7', own: '7' });
  });
});

describe('verifyThreadCount', () => {
  it('gives one verification thread per core, or a cluster process its share, at least 1', () => {
    expect(verifyThreadCount({}, 2)).toBe(2);
    expect(verifyThreadCount({ MRA_VERIFY_THREADS: 'auto' }, 16)).toBe(16);
    expect(verifyThreadCount({ MRA_CLUSTER_PROCESSES: '4' }, 16)).toBe(4);
    expect(verifyThreadCount({ MRA_CLUSTER_PROCESSES: '4' }, 17)).toBe(5);
    expect(verifyThreadCount({ MRA_CLUSTER_PROCESSES: '2' }, 2)).toBe(1);
    expect(verifyThreadCount({}, 1024)).toBe(256);
  });

  it('keeps what the operator set, in every process of a cluster', () => {
    expect(verifyThreadCount({ MRA_VERIFY_THREADS: '1' }, 16)).toBe(1);
    expect(verifyThreadCount({ MRA_VERIFY_THREADS: '24', MRA_CLUSTER_PROCESSES: '4' }, 16)).toBe(24);
  });

  it.each(['0', '257', '-1', '2.5', ' 4', 'four', '1e2'])('refuses %j with CONFIG_INVALID', (value) => {
    const refused = () => verifyThreadCount({ MRA_VERIFY_THREADS: value }, 4);
    expect(refused).toThrow(GatewayError);
    expect(refused).toThrow(/MRA_VERIFY_THREADS must be a whole number from 1 to 256, or auto/);
  });
});

describe('the cores of a cgroup CPU quota', () => {
  it('counts whole cores, at least 1', () => {
    expect(quotaCores('200000', '100000')).toBe(2);
    expect(quotaCores('250000', '100000')).toBe(2);
    expect(quotaCores('50000', '100000')).toBe(1);
    expect(quotaCores('1', '100000')).toBe(1);
    expect(quotaCores('6400000', '100000')).toBe(64);
  });

  it('finds no quota in "max", -1, 0 or what is not a number', () => {
    for (const [quota, period] of [
      ['-1', '100000'],
      ['max', '100000'],
      ['0', '100000'],
      ['200000', '0'],
      ['', ''],
      ['2e5', '100000'],
      ['200000', ' 100000'],
      ['1.5', '1'],
    ] as const)
      expect(quotaCores(quota, period)).toBeUndefined();
  });

  it('reads cgroup v2 cpu.max', () => {
    expect(cpuMaxCores('200000 100000\n')).toBe(2);
    expect(cpuMaxCores('150000 100000')).toBe(1);
    expect(cpuMaxCores('max 100000\n')).toBeUndefined();
    expect(cpuMaxCores('')).toBeUndefined();
    expect(cpuMaxCores('200000')).toBeUndefined();
  });

  it('caps the cores of the affinity mask by the quota, v2 before v1, and keeps them without one', () => {
    const files = (entries: Record<string, string>) => (path: string) => entries[path];
    const V2 = '/sys/fs/cgroup/cpu.max';
    const V1_QUOTA = '/sys/fs/cgroup/cpu/cpu.cfs_quota_us';
    const V1_PERIOD = '/sys/fs/cgroup/cpu/cpu.cfs_period_us';
    expect(processCores(64, files({ [V2]: '200000 100000\n' }))).toBe(2);
    expect(processCores(64, files({ [V2]: 'max 100000\n' }))).toBe(64);
    expect(processCores(4, files({ [V2]: '1600000 100000\n' }))).toBe(4);
    expect(processCores(64, files({ [V1_QUOTA]: '300000\n', [V1_PERIOD]: '100000\n' }))).toBe(3);
    expect(processCores(64, files({ [V1_QUOTA]: '-1\n', [V1_PERIOD]: '100000\n' }))).toBe(64);
    expect(processCores(64, files({ [V2]: 'max 100000', [V1_QUOTA]: '300000', [V1_PERIOD]: '100000' }))).toBe(
      64,
    );
    expect(processCores(8, files({}))).toBe(8);
  });

  it('sizes the verification pool of a process so limited', () => {
    const limited = processCores(64, () => '200000 100000');
    expect(verifyThreadCount({}, limited)).toBe(2);
    expect(verifyThreadCount({ MRA_VERIFY_THREADS: '16' }, limited)).toBe(16);
  });
});

describe('the entry imports it before anything else', () => {
  it('is the first import of src/cli/main.ts', () => {
    const main = readFileSync(new URL('../../src/cli/main.ts', import.meta.url), 'utf8');
    const imports = main.split('\n').filter((l) => l.startsWith('import '));
    expect(imports[0]).toBe("import { threadSettingError } from '../config/thread-pool.ts';");
  });

  it('stops the command line with exit code 2 and one line on an unusable MRA_VERIFY_THREADS', () => {
    const { MRA_VERIFY_THREADS: _, ...rest } = process.env;
    const run = spawnSync(process.execPath, ['src/cli/main.ts', '--version'], {
      cwd: ROOT,
      env: { ...rest, NODE_OPTIONS: '', MRA_VERIFY_THREADS: 'many' },
      encoding: 'utf8',
    });
    expect(run.status).toBe(2);
    expect(run.stderr.trim()).toBe(
      'mra-gateway: CONFIG_INVALID: configuration: MRA_VERIFY_THREADS must be a whole number from 1 to 256, or auto',
    );
  });

  it.runIf(process.platform === 'linux')(
    'a process that imports it first runs its pool with the size it chose',
    () => {
      // Eight threads of the pool at once: each pbkdf2 call holds one. The thread count shows how many exist.
      const script = `
        import './src/config/thread-pool.ts';
        import { pbkdf2 } from 'node:crypto';
        import { readFileSync } from 'node:fs';
        const hold = () => new Promise((r) => pbkdf2('x', 'y', 20000, 32, 'sha256', r));
        await Promise.all(Array.from({ length: 8 }, hold));
        const threads = Number(/Threads:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
        console.log(JSON.stringify({ size: process.env.UV_THREADPOOL_SIZE, threads }));`;
      const run = (env: NodeJS.ProcessEnv) =>
        JSON.parse(
          execFileSync(process.execPath, ['--input-type=module', '-e', script], {
            cwd: ROOT,
            env: { ...env, NODE_OPTIONS: '' },
            encoding: 'utf8',
          }),
        ) as { size: string; threads: number };
      const { UV_THREADPOOL_SIZE: _, ...rest } = process.env;
      const eight = run({ ...rest, UV_THREADPOOL_SIZE: '8' });
      const four = run({ ...rest, UV_THREADPOOL_SIZE: '4' });
      expect([eight.size, four.size]).toEqual(['8', '4']);
      // The same process with four more pool threads.
      expect(eight.threads - four.threads).toBe(4);
    },
  );

  it('a process that imports it first sizes its verification pool so', () => {
    const script = `
      import './src/config/thread-pool.ts';
      import { verifyPool } from './src/crypto/verify-pool.ts';
      console.log(JSON.stringify(verifyPool().threads));`;
    const run = (env: NodeJS.ProcessEnv) =>
      execFileSync(process.execPath, ['--input-type=module', '-e', script], {
        cwd: ROOT,
        env: { ...env, NODE_OPTIONS: '' },
        encoding: 'utf8',
      }).trim();
    const { MRA_VERIFY_THREADS: _, MRA_CLUSTER_PROCESSES: __, ...rest } = process.env;
    expect(run({ ...rest, MRA_VERIFY_THREADS: '3' })).toBe('3');
    expect(run({ ...rest, MRA_CLUSTER_PROCESSES: '64' })).toBe('1');
  });
});
