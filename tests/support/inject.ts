/**
 * A test gateway without sockets: the real composition (compose.ts) on PostgreSQL or the embedded store,
 * reached through fastify's `inject`. For route tests where the transport is not the point; TLS, mTLS,
 * timeouts, connection limits and partner-to-partner delivery stay on the socket gateway (gateway.ts).
 */
import type { FastifyInstance } from 'fastify';
import { type ComposedGateway, composeGateway } from '../../src/compose.ts';
import type { GatewayConfig } from '../../src/config/types.ts';
import { createLogger } from '../../src/log.ts';
import type { Store } from '../../src/store/types.ts';
import {
  type HttpClient,
  type HttpResponse,
  openTestStore,
  type ReachableGateway,
  type RequestOptions,
  reachableGateway,
  type StoreKind,
} from './gateway.ts';

export interface InjectedGateway extends ReachableGateway {
  gateway: ComposedGateway;
}

export async function composeTestGateway(
  config: GatewayConfig,
  kind: StoreKind,
  options: {
    log?: ReturnType<typeof createLogger>;
    clock?: () => Date;
    /** A store another test gateway opened: shared, and left open on close. */
    store?: Store;
  } = {},
): Promise<InjectedGateway> {
  const { store, dispose } = options.store
    ? { store: options.store, dispose: async () => {} }
    : await openTestStore(kind);
  const gateway = await composeGateway(config, {
    store,
    ownsStore: false,
    log: options.log ?? createLogger('silent'),
    ...(options.clock ? { clock: options.clock } : {}),
  }).catch(async (error: unknown) => {
    await dispose();
    throw error;
  });
  await gateway.readModelLoaded;
  const reachable = reachableGateway(
    kind,
    store,
    injectClient(gateway.app),
    injectClient(gateway.apiApp),
    async () => {
      await gateway.close();
      await dispose();
    },
  );
  return { ...reachable, gateway };
}

/** A client of `app` through `inject`: the whole request pipeline, no socket. */
export function injectClient(app: FastifyInstance): HttpClient {
  const request = async (path: string, o: RequestOptions): Promise<HttpResponse> => {
    if (o.dispatcher !== undefined) throw new Error('a request with a dispatcher needs the socket gateway');
    const res = await app.inject({
      method: o.method,
      url: path,
      headers: o.headers ?? {},
      ...(o.body === undefined ? {} : { payload: typeof o.body === 'string' ? o.body : Buffer.from(o.body) }),
    });
    const headers: HttpResponse['headers'] = {};
    for (const [name, value] of Object.entries(res.headers)) {
      headers[name] = typeof value === 'number' ? String(value) : value;
    }
    return { status: res.statusCode, headers, text: res.body };
  };
  return {
    request,
    post(path, body, o = {}) {
      const payload = typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
      return request(path, {
        method: 'POST',
        headers: { 'content-type': o.contentType ?? 'application/json', ...o.headers },
        body: payload,
        ...(o.dispatcher ? { dispatcher: o.dispatcher } : {}),
      });
    },
  };
}
