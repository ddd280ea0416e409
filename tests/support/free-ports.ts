/**
 * Ports for a configuration to name before the gateway listens on them. A port the system hands out for port 0
 * comes from its ephemeral range, which every outgoing connection (to PostgreSQL, Redis, a partner) also draws
 * from: between the choice and the listen, a connection may take it (EADDRINUSE). These come from below that
 * range, where no outgoing connection is given a port, each test worker from a block of its own, so two
 * workers never choose the same port; each is checked free on every address before it is handed out.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const LOWEST = 10_000;
const BLOCK = 1_500;

/** The first port of the system's ephemeral range (Linux), or the common default where it cannot be read. */
function ephemeralStart(): number {
  try {
    const first = Number(
      readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0],
    );
    if (Number.isInteger(first) && first > LOWEST + BLOCK) return first;
  } catch {
    // Not Linux: the IANA range's start is below every system default.
  }
  return 32_768;
}

const blocks = Math.max(1, Math.floor((ephemeralStart() - LOWEST) / BLOCK));
// Vitest numbers its workers from 1; a process outside vitest takes a block by its pid.
const worker = Number(process.env.VITEST_POOL_ID ?? process.pid);
const base = LOWEST + ((Number.isInteger(worker) ? worker : 0) % blocks) * BLOCK;
let next = 0;

/** Whether nothing listens on `port` on any address now. */
function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '::', ipv6Only: false }, () => server.close(() => resolve(true)));
  });
}

/** `n` ports free a moment ago, from this worker's block, none handed out twice in a row of a block's length. */
export async function freePorts(n: number): Promise<number[]> {
  const ports: number[] = [];
  for (let tried = 0; ports.length < n; tried += 1) {
    if (tried >= BLOCK) throw new Error(`no free port in ${base}..${base + BLOCK - 1}`);
    const port = base + next;
    next = (next + 1) % BLOCK;
    if (await isFree(port)) ports.push(port);
  }
  return ports;
}
