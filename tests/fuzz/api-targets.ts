/**
 * The API listener, route family by route family (lookups, publishing, subscriptions, monitoring reports, the
 * rest): query strings at and beyond their bounds, valid request bodies mutated, path parameters edited, and
 * tokens missing or mutated. Every route the app lists is reached; none may answer 5xx.
 */
import fc from 'fast-check';
import {
  concrete,
  decisionBody,
  feedbackBody,
  hostileBody,
  lookupBody,
  queryString,
  type Route,
  replayBody,
  routesOf,
} from '../support/fuzz-inputs.ts';
import { applyEdit, mutatedJson, textEdit } from '../support/fuzz-mutate.ts';
import type { FuzzContext, FuzzRequest } from './context.ts';
import { type Target, target } from './target.ts';

const FAMILIES: readonly { name: string; weight: number; path: RegExp }[] = [
  {
    name: 'API lookups: operators, manifests, feedback',
    weight: 10,
    path: /^\/api\/v1\/(operators|feedback)/,
  },
  {
    name: 'API publishing: decisions, register imports',
    weight: 8,
    path: /^\/api\/v1\/(decisions|register)/,
  },
  { name: 'API subscriptions', weight: 5, path: /^\/api\/v1\/subscriptions/ },
  {
    name: 'API monitoring: reports, summaries, partners',
    weight: 6,
    path: /^\/api\/v1\/(monitoring|summaries|partners)/,
  },
  { name: 'API other routes', weight: 3, path: /./ },
];

const DECISION = JSON.parse(decisionBody('2025-03-01')) as Record<string, unknown>;
const CSV =
  'aeoId,decision,programme,certifiedOn,name,street,city,country,roles\nPE1,certify,AEO-F,2025-03-01,N,S,C,PE,exporter\n';

/** A valid body of the route, the seed its mutations start from. */
function seedOf(route: Route): unknown {
  const p = route.path;
  if (p.endsWith('/decisions')) return DECISION;
  if (p.endsWith('/operators/lookup')) return JSON.parse(lookupBody(new Date().toISOString()));
  if (p.endsWith('/feedback')) return JSON.parse(feedbackBody(new Date().toISOString()));
  if (p.endsWith('/subscriptions'))
    return { url: 'http://127.0.0.1:9/hook', issuers: ['CL'], events: ['operator.status-changed'] };
  if (p.endsWith('/summaries')) return { partner: 'CL', from: '2026-01-01', to: '2026-01-31' };
  if (p.endsWith('/replay')) return JSON.parse(replayBody(1));
  return {};
}

type Variant =
  | { kind: 'query'; query: string }
  | { kind: 'body'; body: string }
  | { kind: 'param'; edit: Buffer }
  | { kind: 'auth'; token: string | null };

function variants(route: Route): fc.Arbitrary<Variant> {
  const hasBody = route.method !== 'GET' && route.method !== 'DELETE';
  const imports = route.path.endsWith('/register/imports');
  const body: fc.Arbitrary<string> = imports
    ? fc.oneof(
        mutatedJson(DECISION).map((line) => `${line}\n${JSON.stringify(DECISION)}\n`),
        textEdit.map((e) => applyEdit(CSV, e).toString('utf8')),
      )
    : fc.oneof({ arbitrary: mutatedJson(seedOf(route)), weight: 3 }, { arbitrary: hostileBody, weight: 1 });
  const param = textEdit.map((e) => applyEdit(concrete(route.path), e));
  return fc.oneof(
    { arbitrary: queryString.map((query) => ({ kind: 'query' as const, query })), weight: hasBody ? 1 : 5 },
    { arbitrary: body.map((b) => ({ kind: 'body' as const, body: b })), weight: hasBody ? 5 : 0 },
    {
      arbitrary: param.map((edit) => ({ kind: 'param' as const, edit })),
      weight: route.path.includes(':') ? 2 : 0,
    },
    {
      arbitrary: fc
        .option(
          fc.oneof(fc.string({ maxLength: 60 }), fc.constantFrom('Bearer ', 'Bearer x', 'Basic Zm9v')),
          {
            freq: 3,
          },
        )
        .map((token) => ({ kind: 'auth' as const, token })),
      weight: 1,
    },
  );
}

function requestOf(ctx: FuzzContext, route: Route, v: Variant): FuzzRequest {
  const auth = { authorization: `Bearer ${ctx.apiToken}` };
  const hasBody = route.method !== 'GET' && route.method !== 'DELETE';
  const imports = route.path.endsWith('/register/imports');
  const type = imports
    ? v.kind === 'body' && v.body.startsWith('aeoId')
      ? 'text/csv'
      : 'application/x-ndjson'
    : 'application/json';
  const plainBody = imports ? `${JSON.stringify(DECISION)}\n` : JSON.stringify(seedOf(route));
  const withBody = (headers: Record<string, string>, payload: string): FuzzRequest =>
    hasBody
      ? {
          method: route.method,
          url: concrete(route.path),
          headers: { ...headers, 'content-type': type },
          payload,
        }
      : { method: route.method, url: concrete(route.path), headers };
  switch (v.kind) {
    case 'query':
      return { ...withBody(auth, plainBody), url: `${concrete(route.path)}?${v.query}` };
    case 'body':
      return withBody(auth, v.body);
    case 'param': {
      // The edited path, its non-ASCII and unsafe bytes escaped as a client would send them.
      const url = [...v.edit]
        .map((b) =>
          b > 0x20 && b < 0x7f && b !== 0x25 && b !== 0x3f && b !== 0x23
            ? String.fromCharCode(b)
            : `%${b.toString(16).padStart(2, '0')}`,
        )
        .join('');
      // A request target is never empty and starts with a slash: anything else cannot be sent at all.
      return { ...withBody(auth, plainBody), url: url.startsWith('/') ? url : `/${url}` };
    }
    case 'auth':
      return withBody(v.token === null ? {} : { authorization: v.token }, plainBody);
  }
}

export function apiTargets(ctx: FuzzContext): Target[] {
  const all = routesOf(ctx.gateway.apiApp).filter((r) => r.path.startsWith('/api/'));
  const taken = new Set<Route>();
  return FAMILIES.flatMap((family) => {
    const routes = all.filter((r) => !taken.has(r) && family.path.test(r.path));
    for (const r of routes) taken.add(r);
    if (routes.length === 0) return [];
    const arbitrary = fc
      .nat({ max: routes.length - 1 })
      .chain((i) => variants(routes[i]!).map((v) => [routes[i]!, v] as const));
    return [
      target(
        `${family.name} (${routes.length} routes)`,
        family.weight,
        arbitrary,
        async ([route, v], stats) => {
          await ctx.send('api', requestOf(ctx, route, v), stats, `${route.method} ${route.path}`);
        },
      ),
    ];
  });
}
