/**
 * The OpenAPI documents of both listeners: generated from the routes (every route registered is in its
 * listener's document, with a request schema where it takes input and a success and an error response), equal
 * to the committed docs/openapi/*.json, served on the API listener with the browsable UI, and true of what the
 * gateway answers. Schemas that only document a route change no answer (openapi/compilers.ts).
 */
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeForDocuments, documentText } from '../../src/cli/openapi.ts';
import type { ComposedGateway } from '../../src/compose.ts';
import { type OpenApiDocument, openApiDocument, registeredRoutes } from '../../src/http/openapi/document.ts';
import { schemaDocument } from '../../src/validation.ts';

/**
 * Routes of third-party user interfaces, not of the gateway's API: the OpenAPI UI itself (its page and assets)
 * and the queue view's pages and the calls its page makes (Bull Board). Nothing else is left out.
 */
const USER_INTERFACES = [/^\/docs(\/|$)/, /^\/queues(\/|$)/];

/** POSTs that take no body: an action on the resource the path names. */
const BODILESS_POSTS = new Set([
  'POST /api/v1/partners/{adminId}/pull',
  'POST /api/v1/partners/{adminId}/reconcile',
  'POST /api/v1/subscriptions/{id}/secret/rotate',
  'POST /dashboard/logout',
]);

/** Error statuses answered with a document of their own: readiness says what is not ready. */
const NOT_PROBLEMS = new Set(['GET /health/ready 503']);

/** Form posts of the dashboard, whose success is a redirect (303) rather than a 2xx. */
const REDIRECTING = new Set(['POST /dashboard/login', 'POST /dashboard/logout']);

type Operation = {
  requestBody?: { content: Record<string, { schema: object }> };
  parameters?: { in: string; name: string; schema: object }[];
  responses: Record<string, { content?: Record<string, { schema: object }> }>;
};

function operationOf(document: OpenApiDocument, method: string, path: string): Operation | undefined {
  return document.paths[path]?.[method.toLowerCase()] as Operation | undefined;
}

/** fastify's `/a/:id` as OpenAPI's `/a/{id}`. */
const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

function documentedRoutes(app: FastifyInstance): string[] {
  const all = registeredRoutes(app);
  return [...new Set(all)]
    .filter((route) => {
      const [method, url] = route.split(' ') as [string, string];
      if (USER_INTERFACES.some((ui) => ui.test(url))) return false;
      // fastify's HEAD twin of each GET: the same operation.
      return !(method === 'HEAD' && all.includes(`GET ${url}`));
    })
    .map((route) => {
      const [method, url] = route.split(' ') as [string, string];
      return `${method} ${openApiPath(url)}`;
    });
}

let composed: { gateway: ComposedGateway; dispose(): Promise<void> };
let api: OpenApiDocument;
let partner: OpenApiDocument;

beforeAll(async () => {
  composed = await composeForDocuments();
  api = await openApiDocument(composed.gateway.apiApp);
  partner = await openApiDocument(composed.gateway.app);
}, 240_000);

afterAll(async () => {
  await composed?.dispose();
});

describe('the OpenAPI documents', () => {
  it('are OpenAPI 3.1 and list every route of their listener with its input and answers', () => {
    const listeners = [
      { name: 'api', app: composed.gateway.apiApp, document: api },
      { name: 'partner', app: composed.gateway.app, document: partner },
    ];
    const faults: string[] = [];
    let checked = 0;
    for (const { name, app, document } of listeners) {
      expect(document.openapi).toBe('3.1.0');
      const routes = documentedRoutes(app);
      expect(routes.length).toBeGreaterThan(5);
      for (const route of routes) {
        checked++;
        const [method, path] = route.split(' ') as [string, string];
        const operation = operationOf(document, method, path);
        if (operation === undefined) {
          faults.push(`${name}: ${route} is not in the document`);
          continue;
        }
        const statuses = Object.keys(operation.responses);
        const success = REDIRECTING.has(route) ? /^3\d\d$/ : /^2\d\d$/;
        if (!statuses.some((s) => success.test(s))) faults.push(`${name}: ${route} has no success answer`);
        if (!statuses.some((s) => /^4\d\d$/.test(s))) faults.push(`${name}: ${route} has no 4xx answer`);
        for (const [status, response] of Object.entries(operation.responses)) {
          if (
            /^[45]\d\d$|^default$/.test(status) &&
            !NOT_PROBLEMS.has(`${route} ${status}`) &&
            response.content?.['application/problem+json'] === undefined
          ) {
            faults.push(`${name}: ${route} ${status} is not a problem document`);
          }
        }
        const pathParams = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
        for (const param of pathParams) {
          const declared = operation.parameters?.find((p) => p.in === 'path' && p.name === param);
          if (declared?.schema === undefined) faults.push(`${name}: ${route} has no schema for {${param}}`);
        }
        if (method === 'POST' && !BODILESS_POSTS.has(route) && operation.requestBody === undefined) {
          faults.push(`${name}: ${route} takes a body but documents none`);
        }
      }
    }
    expect(faults).toEqual([]);
    console.log(`openapi: ${checked} routes checked against their documents`);
    expect(checked).toBeGreaterThan(30);
  });

  it('document every query parameter a route accepts, with a schema', () => {
    // A route with a querystring schema has its parameters in the document (strict-input.ts refuses any query
    // parameter of a route without one).
    const faults: string[] = [];
    for (const document of [api, partner]) {
      for (const [path, operations] of Object.entries(document.paths)) {
        for (const [method, op] of Object.entries(operations) as [string, Operation][]) {
          for (const p of op.parameters ?? []) {
            if (p.schema === undefined) faults.push(`${method} ${path} ${p.in} ${p.name} has no schema`);
          }
        }
      }
    }
    expect(faults).toEqual([]);
  });

  it('equal the committed docs/openapi/*.json (npm run gateway -- openapi writes them)', () => {
    for (const [name, document] of Object.entries({ api, partner })) {
      const committed = readFileSync(new URL(`../../docs/openapi/${name}.json`, import.meta.url), 'utf8');
      expect(committed, `docs/openapi/${name}.json is stale: run npm run gateway -- openapi`).toBe(
        documentText(document),
      );
    }
  });

  it('leave the schema the decision route validates with as it is in schemas/', () => {
    const file = JSON.parse(
      readFileSync(new URL('../../schemas/decision.schema.json', import.meta.url), 'utf8'),
    );
    expect(schemaDocument('decision')).toEqual(file);
    const documented = operationOf(api, 'POST', '/api/v1/decisions')?.requestBody?.content[
      'application/json'
    ];
    expect(documented?.schema).toMatchObject({ required: file.required, properties: file.properties });
  });

  it('are served on the API listener, with the browsable UI offering both', async () => {
    const app = composed.gateway.apiApp;
    for (const [name, document] of Object.entries({ api, partner })) {
      const res = await app.inject({ method: 'GET', url: `/openapi/${name}.json` });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual(document);
    }
    const page = await app.inject({ method: 'GET', url: '/docs' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    const init = await app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' });
    expect(init.statusCode).toBe(200);
    expect(init.body).toContain('/openapi/api.json');
    expect(init.body).toContain('/openapi/partner.json');
  });

  it('say what the gateway answers: health, the keys, a refused token', async () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const app = composed.gateway.apiApp;
    const check = (
      document: OpenApiDocument,
      method: string,
      path: string,
      status: number,
      body: unknown,
      media: string,
    ) => {
      const op = operationOf(document, method, path);
      const response = op?.responses[String(status)] ?? op?.responses.default;
      const schema = response?.content?.[media]?.schema;
      expect(schema, `${method} ${path} ${status} ${media}`).toBeDefined();
      const validate = ajv.compile({ ...schema, components: document.components });
      expect(validate(body), JSON.stringify(validate.errors)).toBe(true);
    };
    const live = await app.inject({ method: 'GET', url: '/health/live' });
    check(api, 'GET', '/health/live', live.statusCode, live.json(), 'application/json');
    const ready = await app.inject({ method: 'GET', url: '/health/ready' });
    check(api, 'GET', '/health/ready', ready.statusCode, ready.json(), 'application/json');
    const wellKnown = await composed.gateway.app.inject({
      method: 'GET',
      url: '/mra/v1/.well-known/mra-gateway',
    });
    expect(wellKnown.statusCode).toBe(200);
    check(partner, 'GET', '/mra/v1/.well-known/mra-gateway', 200, wellKnown.json(), 'application/json');
    const refused = await app.inject({ method: 'GET', url: '/api/v1/deliveries' });
    expect(refused.statusCode).toBe(401);
    check(api, 'GET', '/api/v1/deliveries', 401, refused.json(), 'application/problem+json');
  });
});
