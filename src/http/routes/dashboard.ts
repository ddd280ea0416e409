/**
 * The live dashboard on the internal API listener, outside /api/v1: `GET /dashboard` (the page, or the
 * sign-in form without a session), `POST /dashboard/login` (form field `token`: an API token with the
 * monitoring or admin scope, checked as the API checks bearer tokens), `GET /dashboard/data` (the panels as
 * JSON, for the page's refresh), `POST /dashboard/logout`. Every answer forbids caching and framing; the pages
 * allow only their own style and script, by nonce.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { shareOf } from '../../config/processes.ts';
import type { ApiClient, ApiScope, GatewayConfig } from '../../config/types.ts';
import { dashboardData } from '../../monitoring/dashboard-data.ts';
import { type Locale, localeOf } from '../../monitoring/definitions.ts';
import {
  renderDashboardPage,
  renderDashboardRefresh,
  renderLoginPage,
} from '../../monitoring/html/dashboard-html.ts';
import type { Store } from '../../store/types.ts';
import { findApiClient } from '../api-auth.ts';
import {
  clearedCookie,
  cookieValue,
  DashboardSessions,
  SESSION_COOKIE,
  sessionCookie,
} from '../dashboard-session.ts';
import { documented } from '../openapi/compilers.ts';
import {
  mediaResponse,
  PROBLEM_MEDIA_TYPE,
  problemSchema,
  problems,
  text,
} from '../openapi/problem-schema.ts';
import { dashboardDataResponse, seeOther } from '../openapi/responses.ts';
import { problemOf, sendProblem } from '../problem.ts';

export interface DashboardRouteDeps {
  config: GatewayConfig;
  store: Store;
  clock: () => Date;
  /** Shared with the queue view (routes/queues.ts), which admin sessions open too. */
  sessions?: DashboardSessions;
}

/** Scopes that open the dashboard: it shows monitoring figures and the state of the gateway's queues. */
export const DASHBOARD_SCOPES: readonly ApiScope[] = ['monitoring', 'admin'];
/** Sign-in attempts per client address and minute, below the API's own limit: a token cannot be guessed. */
export const LOGIN_ATTEMPTS_PER_MINUTE = 10;

const FORM = /^application\/x-www-form-urlencoded(?:;\s*charset=utf-8)?$/i;
const FORM_LIMIT = 4_096;

/** The sign-in form, as documentation: the handler reads its fields itself. */
const loginForm = {
  content: {
    'application/x-www-form-urlencoded': {
      schema: documented({
        type: 'object',
        required: ['token'],
        properties: { token: { type: 'string' }, lang: { type: 'string' } },
      }),
    },
  },
};

const langQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { lang: { type: 'string', maxLength: 35 } },
} as const;

interface LangQuery {
  lang?: string;
}

function localeFor(request: FastifyRequest, lang: string | undefined): Locale {
  return localeOf(lang ?? request.headers['accept-language']);
}

/** A form body as one value per name (the first), no prototype: what the sign-in and sign-out forms send. */
function parseForm(text: string): Record<string, string> {
  const form = Object.create(null) as Record<string, string>;
  for (const [name, value] of new URLSearchParams(text)) {
    if (!Object.hasOwn(form, name)) form[name] = value;
  }
  return form;
}

function field(body: unknown, name: string): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const value = (body as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}

export async function registerDashboardRoutes(app: FastifyInstance, deps: DashboardRouteDeps): Promise<void> {
  const sessions = deps.sessions ?? new DashboardSessions(deps.store, deps.config.apiClients, deps.clock);
  const secure = deps.config.api.tls !== undefined;
  const clients = deps.config.apiClients;
  // The gateway's bound on sign-in attempts: each of a cluster's processes allows its share.
  const loginAttempts = shareOf(LOGIN_ATTEMPTS_PER_MINUTE, deps.config.server.processes);

  await app.register(async (dashboard) => {
    dashboard.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: FORM_LIMIT },
      (_request, body, done) => done(null, parseForm(String(body))),
    );
    dashboard.decorateRequest('cspNonce', '');
    dashboard.addHook('onRequest', async (request, reply) => {
      const nonce = randomBytes(18).toString('base64url');
      request.cspNonce = nonce;
      void reply.headers({
        'content-security-policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
        'referrer-policy': 'no-referrer',
      });
    });

    const sessionOf = (request: FastifyRequest): Promise<ApiClient | undefined> =>
      sessions.find(cookieValue(request.headers.cookie, SESSION_COOKIE));

    const loginPage = (reply: FastifyReply, request: FastifyRequest, locale: Locale, failed: boolean) =>
      reply
        .code(failed ? 401 : 200)
        .type('text/html; charset=utf-8')
        .send(renderLoginPage(locale, { failed, nonce: request.cspNonce }));

    const gather = () =>
      dashboardData(deps.store, {
        home: deps.config.home.adminId,
        partners: deps.config.partners,
        now: deps.clock(),
      });

    dashboard.get<{ Querystring: LangQuery }>(
      '/dashboard',
      {
        schema: {
          summary: 'The live dashboard page, or the sign-in form without a session',
          querystring: langQuery,
          response: { 200: mediaResponse('The page (HTML).', 'text/html'), ...problems(400) },
        },
      },
      async (request, reply) => {
        const locale = localeFor(request, request.query.lang);
        if ((await sessionOf(request)) === undefined) return loginPage(reply, request, locale, false);
        const data = await gather();
        return reply
          .type('text/html; charset=utf-8')
          .send(renderDashboardPage(data, locale, request.cspNonce));
      },
    );

    dashboard.get<{ Querystring: LangQuery }>(
      '/dashboard/data',
      {
        schema: {
          summary: 'The dashboard panels, for the page’s refresh (session cookie)',
          querystring: langQuery,
          response: { 200: dashboardDataResponse, ...problems(400, 401) },
        },
      },
      async (request, reply) => {
        if ((await sessionOf(request)) === undefined) {
          return sendProblem(reply, problemOf('UNAUTHORIZED', 'sign in to the dashboard first'));
        }
        const data = await gather();
        return { data, ...renderDashboardRefresh(data, localeFor(request, request.query.lang)) };
      },
    );

    dashboard.post(
      '/dashboard/login',
      {
        config: {
          mediaTypes: [FORM],
          rateLimit: { max: loginAttempts, timeWindow: 60_000 },
        },
        schema: {
          summary: 'Sign in with an API token of the monitoring or admin scope',
          body: loginForm,
          response: {
            303: seeOther('Signed in: the session cookie, and back to the dashboard.'),
            401: {
              description:
                'Refused: the form again for a browser (Accept: text/html), else a problem document.',
              content: {
                'text/html': { schema: text('The sign-in form, with the refusal.') },
                [PROBLEM_MEDIA_TYPE]: { schema: problemSchema },
              },
            },
            ...problems(400, 415),
          },
        },
      },
      async (request, reply) => {
        const locale = localeFor(request, field(request.body, 'lang'));
        const token = field(request.body, 'token') ?? '';
        const client = findApiClient(clients, `Bearer ${token.trim()}`);
        // One answer for an unknown token and for a token without the scope: no hint which part was wrong.
        if (client === undefined || !DASHBOARD_SCOPES.some((scope) => client.scopes.has(scope))) {
          request.log.warn({ event: 'dashboard-login-refused' }, 'dashboard sign-in refused');
          // A browser's form gets the form again; any other client the API's problem document.
          if (!acceptsHtml(request)) {
            return sendProblem(reply, problemOf('UNAUTHORIZED', 'dashboard sign-in refused'));
          }
          return loginPage(reply, request, locale, true);
        }
        const id = await sessions.open(client);
        request.log.info({ event: 'dashboard-login', client: client.id }, 'dashboard sign-in');
        return reply
          .code(303)
          .header('set-cookie', sessionCookie(id, secure))
          .header('location', `/dashboard?lang=${locale}`)
          .send();
      },
    );

    const logout = {
      config: { mediaTypes: [FORM, /^$/] },
      schema: {
        summary: 'Sign out: the session ends',
        response: { 303: seeOther('Signed out, and back to the sign-in form.'), ...problems(415) },
      },
    };
    dashboard.post('/dashboard/logout', logout, async (request, reply) => {
      await sessions.close(cookieValue(request.headers.cookie, SESSION_COOKIE));
      const locale = localeFor(request, undefined);
      return reply
        .code(303)
        .header('set-cookie', clearedCookie(secure))
        .header('location', `/dashboard?lang=${locale}`)
        .send();
    });
  });
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The nonce of this answer's Content-Security-Policy (dashboard pages). */
    cspNonce: string;
  }
}

/** Whether the client takes an HTML page (a browser submitting the sign-in form says so in Accept). */
function acceptsHtml(request: FastifyRequest): boolean {
  return /(^|,)\s*text\/html\s*(;|,|$)/i.test(request.headers.accept ?? '');
}
