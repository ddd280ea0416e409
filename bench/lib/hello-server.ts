/**
 * The baseline of the lookup benchmark: a bare fastify hello-world route, in its own process, as the gateway
 * runs in its own. `node bench/lib/hello-server.ts PORT` listens on 127.0.0.1:PORT until SIGTERM.
 */
import Fastify from 'fastify';

const port = Number(process.argv[2]);
const app = Fastify({ logger: false });
app.get('/hello', async () => ({ hello: 'world' }));
await app.listen({ host: '127.0.0.1', port });
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
