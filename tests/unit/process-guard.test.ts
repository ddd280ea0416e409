import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { isStrayConnectionRejection } from '../../src/process-guard.ts';

const withStack = (message: string, frames: string[]) => {
  const e = new Error(message);
  e.stack = [`Error: ${message}`, ...frames.map((f) => `    at ${f}`)].join('\n');
  return e;
};

describe('stray rejections', () => {
  it('tolerates a dropped connection raised inside a library only', () => {
    const lib = 'close (/srv/gw/node_modules/ioredis/built/redis/event_handler.js:214:25)';
    expect(isStrayConnectionRejection(withStack('Connection is closed.', [lib]))).toBe(true);
    expect(
      isStrayConnectionRejection(
        withStack('connect ECONNREFUSED 127.0.0.1:1', ['TCPConnectWrap.afterConnect (node:net:2021:16)']),
      ),
    ).toBe(true);
    // One of ours in the stack: a bug to see, not to tolerate.
    const ours = 'send (/srv/gw/src/notifications/send.ts:61:25)';
    expect(isStrayConnectionRejection(withStack('connect ECONNREFUSED 127.0.0.1:1', [ours]))).toBe(false);
    expect(isStrayConnectionRejection(withStack('Cannot read properties of undefined', [lib]))).toBe(false);
    expect(isStrayConnectionRejection('Connection is closed.')).toBe(false);
    expect(isStrayConnectionRejection(undefined)).toBe(false);
  });

  it('keeps a gateway process running after one, and stops it after any other', () => {
    const script = `
      import { guardProcess } from './src/process-guard.ts';
      import { createLogger } from './src/log.ts';
      guardProcess(createLogger('warn'));
      const stray = new Error('Connection is closed.');
      stray.stack = 'Error: Connection is closed.\\n    at close (/x/node_modules/ioredis/built/redis/event_handler.js:1:1)';
      Promise.reject(stray);
      setTimeout(() => { console.log('still running'); Promise.reject(new TypeError('a bug')); }, 100);
      setTimeout(() => console.log('should not get here'), 2000);
    `;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(run.stdout).toContain('still running');
    expect(run.stdout).toContain('stray-rejection');
    expect(run.stdout).toContain('unhandled promise rejection; stopping');
    expect(run.stdout).not.toContain('should not get here');
    expect(run.status).toBe(1);
  });
});
