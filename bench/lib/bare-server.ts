/**
 * The bare-server baselines: fastify with nothing of the gateway, in its own process as the gateway runs in
 * its own, so that a benchmark can divide its figure by the same kind of work measured in the same run.
 * `node bench/lib/bare-server.ts PORT` listens on 127.0.0.1:PORT until SIGTERM:
 *   GET  /hello    {"hello":"world"}                     (lookup benchmark)
 *   POST /echo     the JSON body, parsed and sent back   (propagation benchmark)
 *   POST /records  parses the JSON body, answers a small JSON with the number of records (inbound benchmark)
 * With BARE_TLS_CERT, BARE_TLS_KEY and BARE_TLS_CA (files; CA a comma-separated list) it serves HTTPS and
 * requires a client certificate issued under the CA, as a gateway with mutual TLS does.
 */
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';

const port = Number(process.argv[2]);
const env = process.env;
const https =
  env.BARE_TLS_CERT && env.BARE_TLS_KEY && env.BARE_TLS_CA
    ? {
        cert: readFileSync(env.BARE_TLS_CERT),
        key: readFileSync(env.BARE_TLS_KEY),
        ca: env.BARE_TLS_CA.split(',').map((file) => readFileSync(file)),
        requestCert: true,
        rejectUnauthorized: true,
      }
    : null;
// A batch of 500 signed records is about 1 MiB, fastify's default limit.
const app = Fastify({ logger: false, bodyLimit: 16 * 1024 * 1024, ...(https ? { https } : {}) });
app.get('/hello', async () => ({ hello: 'world' }));
app.post('/echo', async (request) => request.body);
app.post('/records', async (request) => {
  const records = (request.body as { records?: unknown } | null)?.records;
  return { received: Array.isArray(records) ? records.length : 0 };
});
await app.listen({ host: '127.0.0.1', port });
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
