/**
 * Baseline of phase 1: the same decision bodies at the same rate to the bare fastify echo route
 * (bench/lib/bare-server.ts), in a process of its own, over the same transport.
 */
import { Pool } from 'undici';
import { startBareServer } from '../lib/bare-baseline.ts';
import { type Distribution, distribution } from '../lib/stats.ts';
import { certify, latencyId, steady } from './decisions.ts';
import { type Options, wallNow } from './options.ts';

const json = { 'content-type': 'application/json' };

export async function baselineEcho(
  options: Options,
): Promise<{ latency: Distribution; achievedRate: number }> {
  const probe = async (url: string) => {
    const res = await fetch(`${url}/echo`, { method: 'POST', body: '{}', headers: json });
    await res.text();
    return res.status === 200;
  };
  const echo = await startBareServer(probe);
  const pool = new Pool(echo.url, { connections: 64 });
  try {
    const count = options.rate * options.seconds;
    const times: number[] = [];
    const { seconds } = await steady(count, options.rate, async (i) => {
      const body = JSON.stringify(certify(latencyId(i), i));
      const t0 = wallNow();
      const res = await pool.request({ path: '/echo', method: 'POST', body, headers: json });
      await res.body.text();
      times.push(wallNow() - t0);
      if (res.statusCode !== 200) throw new Error(`echo: HTTP ${res.statusCode}`);
    });
    return { latency: distribution(times), achievedRate: seconds > 0 ? (count - 1) / seconds : count };
  } finally {
    await pool.close();
    await echo.stop();
  }
}
