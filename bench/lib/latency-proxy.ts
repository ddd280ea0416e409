/**
 * PostgreSQL as if it ran on another machine: a proxy on loopback that holds each of the server's answers
 * `--delay-ms` before passing it on (a round trip that long), and counts the conversation's turns (how many
 * times a connection speaks again after an answer: its round trips). For the benchmarks' variants with the
 * database away from the gateway, through BENCH_PG_URL:
 *
 *   node bench/lib/latency-proxy.ts --port 15432 --delay-ms 1 &
 *   BENCH_PG_URL=postgres://postgres@127.0.0.1:15432/postgres npm run bench:propagation -- --runs 3 --records 0
 *   kill -INT %1        prints the turns counted, and stops
 *
 * Options: --port P (where it listens, default 15432), --target T (PostgreSQL's port on 127.0.0.1, default
 * 5432), --delay-ms D (0 to 100, default 1). SIGUSR2 prints the turns so far and starts counting again.
 */
import { parseArgs } from 'node:util';
import { startTurnCounter } from '../../tests/support/turn-counter.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '15432' },
    target: { type: 'string', default: '5432' },
    'delay-ms': { type: 'string', default: '1' },
  },
});
const port = Number(values.port);
const target = Number(values.target);
const delayMs = Number(values['delay-ms']);
for (const [name, value, max] of [
  ['--port', port, 65_535],
  ['--target', target, 65_535],
  ['--delay-ms', delayMs, 100],
] as const) {
  if (!Number.isFinite(value) || value < 0 || value > max) {
    console.error(`${name} must be a number from 0 to ${max}`);
    process.exit(2);
  }
}

const proxy = await startTurnCounter(target, delayMs, port);
console.log(`latency proxy on 127.0.0.1:${proxy.port} to 127.0.0.1:${target}, answers held ${delayMs} ms`);
process.on('SIGUSR2', () => {
  console.log(`turns ${proxy.turns()}`);
  proxy.reset();
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    console.log(`turns ${proxy.turns()}`);
    void proxy.close().then(() => process.exit(0));
  });
}
