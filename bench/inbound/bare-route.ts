/**
 * The baseline of the same kind as the inbound path: the same batch bodies, posted with the same concurrency
 * over the same transport to a bare fastify route that parses the JSON and answers a small JSON. What the
 * gateway adds on top of that (verification, checks, the transaction, the signed receipt) is what the ratio
 * to this baseline measures; the machine's cost of sockets and system calls is in both.
 */
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { type BareTls, startBareServer } from '../lib/bare-baseline.ts';
import { cpuDelta, cpuSample } from '../lib/cpu.ts';
import { BATCH_SIZE } from './options.ts';
import { type Admins, type Posted, postInLanes } from './receive.ts';

const MIN_SECONDS = 2;
const MAX_ROUNDS = 100;

export interface BareRoute extends Posted {
  perSecond: number;
  /** Records per CPU second of the bare server and this process (NaN without /proc). */
  perCpuSecond: number;
  /** How many times the timed batches were posted. */
  rounds: number;
}

export async function measureBareRoute(
  admins: Admins,
  mtls: boolean,
  concurrency: number,
  batches: { warmUp: string[]; timed: string[][] },
): Promise<BareRoute> {
  const { cl, pe, sender } = admins;
  // With --mtls the bare server presents CL's TLS identity and requires PE's, as the gateway does.
  const tls: BareTls | undefined = mtls
    ? {
        certificate: join(cl.certDir, 'tls.pem'),
        key: join(cl.certDir, 'tls.key'),
        clientCas: [join(pe.certDir, 'root.pem'), join(pe.certDir, 'issuing-ca.pem')],
      }
    : undefined;
  const partner = sender.partners[0]!;
  const agent = new Agent({
    headersTimeout: 60_000,
    bodyTimeout: 60_000,
    connect: {
      ca: [...partner.trust.anchors, ...partner.intermediates].map((c) => c.x509.toString()),
      ...(mtls && sender.server.tls
        ? { cert: sender.server.tls.certificatePem, key: sender.server.tls.keyPem }
        : {}),
    },
  });
  const post = async (url: string, records: readonly string[]) => {
    const res = await request(`${url}/records`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ records }),
    });
    const body = (await res.body.json()) as { received?: number };
    if (res.statusCode !== 200) throw new Error(`bare route: HTTP ${res.statusCode}`);
    return body.received ?? 0;
  };
  try {
    const bare = await startBareServer(async (url) => (await post(url, [])) === 0, tls);
    try {
      if ((await post(bare.url, batches.warmUp)) !== BATCH_SIZE) throw new Error('bare route: short count');
      // The bare route takes a batch in a few milliseconds: the same batches are posted again, round after
      // round, until the measurement lasts long enough to mean something.
      const watched = [{ pid: bare.process.child.pid, label: 'bare server' }];
      const before = await cpuSample(watched, []);
      const rounds: Posted[] = [];
      while (rounds.length < MAX_ROUNDS && rounds.reduce((t, r) => t + r.seconds, 0) < MIN_SECONDS) {
        rounds.push(await postInLanes(batches.timed, concurrency, (records) => post(bare.url, records)));
      }
      const cpu = cpuDelta(before, await cpuSample(watched, []));
      const ownCpu = cpu.filter(([name]) => name !== 'other processes').reduce((t, [, c]) => t + c, 0);
      const sum = (f: (r: Posted) => number) => rounds.reduce((t, r) => t + f(r), 0);
      const accepted = sum((r) => r.accepted);
      const seconds = sum((r) => r.seconds);
      return {
        sent: sum((r) => r.sent),
        accepted,
        seconds,
        latencyMs: rounds[0]!.latencyMs,
        rounds: rounds.length,
        perSecond: accepted / seconds,
        perCpuSecond: cpu.length === 0 ? Number.NaN : accepted / ownCpu,
      };
    } finally {
      await bare.stop();
    }
  } finally {
    await agent.close();
  }
}
