/**
 * The queue view (Bull Board) at `/queues` on the internal API listener, read-only, for the `admin` scope: a
 * bearer token for programs, or the dashboard's session for a browser (signed in at /dashboard with an admin
 * token; a monitoring session is refused). The queues come from src/queue/ (board.ts); without Redis the
 * view answers 503 with a problem document rather than a page that cannot load.
 */
import { createBullBoard } from '@bull-board/api';
import { FastifyAdapter } from '@bull-board/fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiClient } from '../../config/types.ts';
import type { BoardQueue } from '../../queue/board.ts';
import { findApiClient } from '../api-auth.ts';
import { cookieValue, type DashboardSessions, SESSION_COOKIE } from '../dashboard-session.ts';
import { type Problem, problemOf, sendProblem } from '../problem.ts';

export const QUEUES_PATH = '/queues';

export interface QueueBoardDeps {
  clients: readonly ApiClient[];
  sessions: DashboardSessions;
  /** The gateway's queues, read when the view is opened. */
  queues: () => BoardQueue[];
  /** Whether Redis answers now. */
  reachable: () => Promise<boolean>;
}

/** What the board's error handler answers; its status is a union of the HTTP statuses. */
type BoardAnswer = ReturnType<Parameters<FastifyAdapter['setErrorHandler']>[0]>;

const ANY_QUERY = { type: 'object' } as const;

export async function registerQueueBoard(app: FastifyInstance, deps: QueueBoardDeps): Promise<void> {
  await app.register(async (board) => {
    // The board's own API takes query parameters (page, status, …) that it validates itself; the strict query
    // reader still refuses repeats and broken escapes.
    board.addHook('onRoute', (route) => {
      route.schema = { ...route.schema, querystring: route.schema?.querystring ?? ANY_QUERY };
    });
    board.addHook('onRequest', async (request, reply) => authorise(request, reply, deps));
    board.addHook('onRequest', async (_request, reply) => {
      if (!(await deps.reachable())) {
        return sendProblem(
          reply,
          problemOf('QUEUE_UNAVAILABLE', 'Redis is not reachable; the queue view needs it'),
        );
      }
      return undefined;
    });
    const serverAdapter = new FastifyAdapter();
    serverAdapter.setBasePath(QUEUES_PATH);
    const bull = createBullBoard({
      queues: [],
      serverAdapter,
      options: { uiConfig: { boardTitle: 'MRA gateway queues' } },
    });
    // What the board's own handlers throw leaves as a problem document too (replacing the board's JSON).
    serverAdapter.setErrorHandler((error) => {
      const status = (error as { statusCode?: unknown }).statusCode;
      const problem = statusProblem(typeof status === 'number' ? status : 500, error.message);
      if (problem.status >= 500) board.log.error({ err: error }, 'queue view failed');
      return { status: problem.status as NonNullable<BoardAnswer['status']>, body: { ...problem } };
    });
    // And what they answer as an error of their own ({ error: { key } }): the same problem documents.
    board.addHook('onSend', async (_request, reply, payload) => {
      if (typeof payload !== 'string' || reply.statusCode < 400) return payload;
      if (!/^application\/json/.test(String(reply.getHeader('content-type') ?? ''))) return payload;
      void reply.type('application/problem+json');
      if (payload.startsWith('{"type":"urn:mra-exchange:problem:')) return payload;
      return JSON.stringify(boardProblem(reply.statusCode, payload));
    });
    // The queues a gateway uses are known once its flows started; read again on every page load.
    board.addHook('onRequest', async () => {
      bull.replaceQueues(deps.queues());
    });
    await board.register(serverAdapter.registerPlugin(), { prefix: QUEUES_PATH });
  });
}

function statusProblem(status: number, detail: string): Problem {
  if (status >= 500) return problemOf('INTERNAL', 'internal error');
  return status === 404 ? problemOf('NOT_FOUND', detail) : problemOf('BAD_REQUEST', detail);
}

/** A board error answer ({ error: { key }, message? }) as a problem document of the same status class. */
function boardProblem(status: number, payload: string): Problem {
  let detail = 'the queue view refused the request';
  try {
    const body = JSON.parse(payload) as { error?: { key?: unknown }; message?: unknown };
    const key = typeof body.error?.key === 'string' ? body.error.key : undefined;
    const message = typeof body.message === 'string' ? body.message : undefined;
    detail = [key, message].filter((s) => s !== undefined).join(': ') || detail;
  } catch {
    // Not JSON after all: the generic detail.
  }
  return statusProblem(status, detail.slice(0, 300));
}

async function authorise(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: QueueBoardDeps,
): Promise<FastifyReply | undefined> {
  const header = request.headers.authorization;
  const client =
    header === undefined
      ? await deps.sessions.find(cookieValue(request.headers.cookie, SESSION_COOKIE))
      : findApiClient(deps.clients, header);
  if (client === undefined) {
    void reply.header('www-authenticate', 'Bearer');
    return sendProblem(
      reply,
      problemOf('UNAUTHORIZED', 'a bearer token or a dashboard session of an admin is required'),
    );
  }
  if (!client.scopes.has('admin')) {
    return sendProblem(reply, problemOf('FORBIDDEN', `the token of ${client.id} lacks the admin scope`));
  }
  return undefined;
}
