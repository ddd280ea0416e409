/**
 * The receiving gateway (CL) of the scale benchmark laid out three ways on one PostgreSQL database and one Redis
 * prefix: one process; a cluster of two (`server.processes: 2`, one port, the primary handing connections to the
 * workers in turn); two replicas, each a one-process gateway on ports of its own, behind one address (the
 * round-robin TCP balancer of tests/support/balancer.ts, as a deployment's load balancer).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { parse } from 'yaml';
import { writeConfig } from '../../src/cli/setup.ts';
import type { RawConfig } from '../../src/config/raw.ts';
import { startBalancer } from '../../tests/support/balancer.ts';
import { freePort, type GatewayProcess, spawnGateway, waitReady } from '../lib/gateway-process.ts';

export type Layout = 'one process' | 'cluster of 2' | 'two replicas';
export const LAYOUTS: readonly Layout[] = ['one process', 'cluster of 2', 'two replicas'];

export interface Running {
  layout: Layout;
  /** The API listener the border systems use. */
  apiUrl: string;
  /**
   * Where the lookup load goes: the API listener, or each replica's own, the load split between them as a
   * client-side balancer (DNS round robin) would, so that no proxy in this process caps them.
   */
  lookupUrls: string[];
  /** Every gateway process: the cluster's primary and its workers, or both replicas. */
  pids(): number[];
  stop(): Promise<void>;
}

function childrenOf(pid: number | undefined): number[] {
  try {
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    return text === '' ? [] : text.split(/\s+/).map(Number);
  } catch {
    return [];
  }
}

async function ready(g: GatewayProcess, apiUrl: string): Promise<void> {
  // Ready, not only listening: the read model is loaded and the store and Redis answer.
  await waitReady(
    g.child,
    'gateway',
    async () => (await request(`${apiUrl}/health/ready`)).statusCode === 200,
    120_000,
  );
}

/**
 * Starts `layout` from the configuration at `basePath` (whose partner listener is the address the partner was
 * told): its processes setting and ports are the layout's.
 */
export async function startLayout(
  layout: Layout,
  basePath: string,
  databaseUrl: string,
  dir: string,
): Promise<Running> {
  const base = parse(readFileSync(basePath, 'utf8')) as RawConfig;
  const write = (name: string, edit: (raw: RawConfig) => void) => {
    const raw = structuredClone(base);
    edit(raw);
    const path = join(dir, `${name}.yaml`);
    writeConfig(path, raw);
    return path;
  };
  const apiPort = base.api?.port ?? 0;
  const apiUrl = (port: number) => `http://127.0.0.1:${port}`;
  if (layout !== 'two replicas') {
    const processes = layout === 'one process' ? 1 : 2;
    const path = write(`CL-${processes}`, (raw) => {
      raw.server = { ...raw.server, processes };
    });
    const g = spawnGateway(path, { databaseUrl });
    await ready(g, apiUrl(apiPort));
    if (processes > 1) {
      for (let i = 0; i < 100 && childrenOf(g.child.pid).length < processes; i += 1)
        await new Promise((r) => setTimeout(r, 100));
    }
    return {
      layout,
      apiUrl: apiUrl(apiPort),
      lookupUrls: [apiUrl(apiPort)],
      pids: () => [g.child.pid!, ...childrenOf(g.child.pid)],
      stop: () => g.stop(),
    };
  }
  const ports = [await freePort(), await freePort(), await freePort(), await freePort()];
  const replicas = [0, 1].map((i) => {
    const path = write(`CL-replica-${i}`, (raw) => {
      raw.server = { ...raw.server, port: ports[2 * i]! };
      raw.api = { ...raw.api, port: ports[2 * i + 1]! };
    });
    return spawnGateway(path, { databaseUrl });
  });
  // The first migrates the database; the second waits for its lock, as replicas starting together do.
  await Promise.all(replicas.map((g, i) => ready(g, apiUrl(ports[2 * i + 1]!))));
  const partnerLb = await startBalancer([ports[0]!, ports[2]!], base.server?.port ?? 0);
  const apiLb = await startBalancer([ports[1]!, ports[3]!], apiPort);
  return {
    layout,
    apiUrl: apiUrl(apiPort),
    lookupUrls: [apiUrl(ports[1]!), apiUrl(ports[3]!)],
    pids: () => replicas.map((g) => g.child.pid!),
    async stop() {
      await partnerLb.close();
      await apiLb.close();
      await Promise.all(replicas.map((g) => g.stop()));
    },
  };
}
