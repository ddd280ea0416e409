/**
 * `healthcheck` (the container's HEALTHCHECK) finds the API listener where the configuration puts it, over
 * http or https, and exits 0 while it answers /health/live and 1 once it does not.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { liveUrl, probeLive } from '../../src/cli/healthcheck.ts';
import { makeAdmins, type TestAdmins } from '../support/admins.ts';
import { freePorts } from '../support/exchange.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';

const run = promisify(execFile);

let admins: TestAdmins;
let pe: TestGateway | undefined;
let cl: TestGateway | undefined;

beforeAll(async () => {
  const [pePort, clPort] = (await freePorts(2)) as [number, number];
  admins = makeAdmins(['PE', 'CL'], {
    // Under mTLS the partner listener has a TLS certificate, which PE's API listener takes too.
    mtls: true,
    edit: (id, raw) => {
      raw.api =
        id === 'PE'
          ? { host: '127.0.0.1', port: pePort, ...(raw.server?.tls ? { tls: raw.server.tls } : {}) }
          : { host: '0.0.0.0', port: clPort };
    },
  });
  pe = await startTestGateway(admins.get('PE').config, 'postgres');
  cl = await startTestGateway(admins.get('CL').config, 'postgres');
}, 60_000);
afterAll(async () => {
  await pe?.close();
  await cl?.close();
  admins?.cleanup();
});

/**
 * The check as the container runs it (the file alone), or as the command line's `healthcheck`, with the node
 * the project pins.
 */
async function healthcheck(configPath: string, entry: 'file' | 'command' = 'file'): Promise<number> {
  const args =
    entry === 'file'
      ? ['src/cli/healthcheck.ts', '--config', configPath]
      : ['src/cli/main.ts', 'healthcheck', '--config', configPath];
  try {
    await run('node_modules/.bin/node', args, { timeout: 60_000 });
    return 0;
  } catch (error) {
    return (error as { code?: number }).code ?? -1;
  }
}

describe('healthcheck', () => {
  it('builds the URL from api.host, api.port and api.tls', () => {
    expect(liveUrl({ host: '0.0.0.0', port: 8080, tls: undefined })).toBe(
      'http://127.0.0.1:8080/health/live',
    );
    expect(liveUrl({ host: '::', port: 9080, tls: undefined })).toBe('http://[::1]:9080/health/live');
    // Only a URL is built here; nothing connects to it.
    expect(
      liveUrl({ host: 'api.pe.customs.example', port: 1, tls: { certificatePem: '', keyPem: '' } }),
    ).toBe('https://api.pe.customs.example:1/health/live');
  });

  it('exits 0 for a live listener over https and over http on a wildcard address', async () => {
    expect(pe?.gateway.apiUrl.startsWith('https://')).toBe(true);
    expect(await healthcheck(admins.get('PE').configPath)).toBe(0);
    expect(await healthcheck(admins.get('CL').configPath)).toBe(0);
    expect(await healthcheck(admins.get('CL').configPath, 'command')).toBe(0);
  }, 120_000);

  it('exits 1 once the listener is gone', async () => {
    const url = liveUrl(admins.get('CL').config.api);
    expect(await probeLive(url)).toBe(true);
    await cl?.close();
    cl = undefined;
    expect(await probeLive(url)).toBe(false);
    expect(await healthcheck(admins.get('CL').configPath)).toBe(1);
    expect(await healthcheck(admins.get('CL').configPath, 'command')).toBe(1);
  }, 120_000);
});
