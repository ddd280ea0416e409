/** Starting the bare server (bench/lib/bare-server.ts) for a baseline, and stopping it however the run ends. */
import { spawn } from 'node:child_process';
import { request } from 'undici';
import { cleanups, undoNow } from './cleanup.ts';
import { freePort, type GatewayProcess, ROOT, stoppable, waitReady } from './gateway-process.ts';

/** Files of the bare server's TLS identity and of the CAs its clients' certificates must chain to. */
export interface BareTls {
  certificate: string;
  key: string;
  clientCas: readonly string[];
}

export interface BareServer {
  url: string;
  process: GatewayProcess;
  stop(): Promise<void>;
}

/** Plain HTTP; with `tls`, HTTPS with mutual TLS. `probe` answers whether the server is up. */
export async function startBareServer(
  probe: (url: string) => Promise<boolean> = async (url) =>
    (await request(`${url}/hello`)).statusCode === 200,
  tls?: BareTls,
): Promise<BareServer> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (tls !== undefined) {
    env.BARE_TLS_CERT = tls.certificate;
    env.BARE_TLS_KEY = tls.key;
    env.BARE_TLS_CA = tls.clientCas.join(',');
  }
  const child = spawn(process.execPath, ['bench/lib/bare-server.ts', String(port)], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const bare = stoppable(child);
  cleanups.add(bare.stop);
  const url = `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`;
  try {
    await waitReady(child, 'bare fastify server', () => probe(url));
  } catch (error) {
    await undoNow(bare.stop);
    throw error;
  }
  return { url, process: bare, stop: () => undoNow(bare.stop) };
}
