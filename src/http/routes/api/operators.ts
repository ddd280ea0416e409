/**
 * Border lookups (border scope), answered from the read model without a database round trip:
 *   GET  /api/v1/operators/:issuer/:aeoId?asOf=
 *   GET  /api/v1/operators?scheme=&value=&country=&asOf=
 *   POST /api/v1/operators/lookup[?form=compact] { asOf?, items: [{ issuer, aeoId } | { scheme, value, country? }] }
 * The two GETs are usually answered by the lane before fastify (operators-lane.ts); these routes answer
 * whatever the lane leaves to them (every refusal, HEAD, a listener without a socket such as `inject`) and
 * declare all three in the OpenAPI document.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import type { ApiClient } from '../../../config/types.ts';
import type { Answerer, AnswerForm, OperatorQuery } from '../../../lookup/answer.ts';
import { JSON_ANSWER_TYPE } from '../../base-app.ts';
import { instantOf } from '../../date-time.ts';
import { problems } from '../../openapi/problem-schema.ts';
import { lookupAnswerResponse, lookupManifestResponse } from '../../openapi/responses.ts';
import { AS_OF, byId, byIdentifier, manifestBody, manifestQuery } from './operator-params.ts';
import { lookupLane } from './operators-lane.ts';

export { ADMIN_ID, AEO_ID, AS_OF, MAX_BATCH } from './operator-params.ts';

export interface OperatorRouteDeps {
  lookup: Answerer;
  clock: () => Date;
  /** The API clients of the configuration: the lane checks their tokens itself. */
  clients: readonly ApiClient[];
  /** The metrics' lookup latency, in seconds: every lookup made, by the lane or the routes. */
  answered(seconds: number): void;
  log: Logger;
  /** How often the lane logs its summary line (operators-lane.ts SUMMARY_INTERVAL_MS). */
  summaryIntervalMs?: number;
}

/** Answers are JSON bytes already (lookup/answer.ts): sent as they are, not serialised again. */
function sendJson(reply: FastifyReply, bytes: Buffer): FastifyReply {
  return reply.type(JSON_ANSWER_TYPE).send(bytes);
}

/** The time asked for; now when absent. */
function asOfOf(asOf: string | undefined, clock: () => Date): Date {
  return asOf === undefined ? clock() : instantOf(asOf, 'asOf');
}

/** Registers the routes on `app`, a context behind the border scope (requireScope), and installs the lane. */
export function registerOperatorRoutes(app: FastifyInstance, deps: OperatorRouteDeps): void {
  const { lookup, clock } = deps;
  // Only lookups that were made: a request refused for its token or scope never reached one.
  app.addHook('onResponse', async (request, reply) => {
    if (request.apiClient !== undefined) deps.answered(reply.elapsedTime / 1000);
  });
  app.laneSlot.lane = lookupLane({ ...deps, prefix: app.prefix, slot: app.laneSlot });

  app.get<{ Params: { issuer: string; aeoId: string }; Querystring: { asOf?: string } }>(
    '/operators/:issuer/:aeoId',
    {
      schema: {
        summary: 'Look an operator up by its issuer and AEO id',
        params: byId,
        querystring: { type: 'object', additionalProperties: false, properties: { asOf: AS_OF } },
        response: { 200: lookupAnswerResponse, ...problems(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const { issuer, aeoId } = request.params;
      return sendJson(reply, lookup.answerJson({ issuer, aeoId }, asOfOf(request.query.asOf, clock)));
    },
  );

  app.get<{ Querystring: { scheme: string; value: string; country?: string; asOf?: string } }>(
    '/operators',
    {
      schema: {
        querystring: {
          ...byIdentifier,
          properties: { ...byIdentifier.properties, asOf: AS_OF },
        },
        summary: 'Look an operator up by a national identifier (EORI, TIN, …)',
        response: { 200: lookupAnswerResponse, ...problems(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const { scheme, value, country, asOf } = request.query;
      return sendJson(reply, lookup.answerJson({ scheme, value, country }, asOfOf(asOf, clock)));
    },
  );

  app.post<{ Body: { asOf?: string; items: OperatorQuery[] }; Querystring: { form?: AnswerForm } }>(
    '/operators/lookup',
    {
      schema: {
        querystring: manifestQuery,
        body: manifestBody,
        summary: 'Look up to 3,000 operators at one instant',
        description:
          'The full form answers each item as the single lookups do; `form=compact` gives the benefits lists, ' +
          'the MRA terms and the freshness once per answer, in tables each item refers to by index.',
        response: {
          200: lookupManifestResponse,
          ...problems(400, 401, 403, 413, 415),
        },
      },
    },
    async (request, reply) => {
      // One instant for the whole manifest, so its answers agree with each other.
      const at = asOfOf(request.body.asOf, clock);
      return sendJson(reply, lookup.batchJson(request.body.items, at, request.query.form ?? 'full'));
    },
  );
}
