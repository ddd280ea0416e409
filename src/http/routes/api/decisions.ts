import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../../../errors.ts';
import type { DecisionInput } from '../../../publishing/decision.ts';
import type { Publisher } from '../../../publishing/publish.ts';
import { schemaDocument, validateAgainst } from '../../../validation.ts';
import { documented } from '../../openapi/compilers.ts';
import { problems } from '../../openapi/problem-schema.ts';
import { decisionCreated, decisionReplayed } from '../../openapi/responses.ts';

/** `POST /api/v1/decisions`: the national AEO system records a decision about one operator. */
export function registerDecisionRoutes(app: FastifyInstance, publisher: Publisher): void {
  // The body was read by the app's strict reader (strict-input.ts): a duplicate member or a lone surrogate is
  // refused rather than silently resolved, since what the national system sends becomes a signed record.
  const schema = {
    summary: 'Record a decision of the national AEO system',
    // Documentation only: the handler validates with the strict validator, as before (openapi/compilers.ts).
    body: documented(schemaDocument('decision')),
    response: {
      201: decisionCreated,
      200: decisionReplayed,
      ...problems(400, 401, 403, 404, 409, 413, 415),
    },
  };
  app.post('/decisions', { schema }, async (request, reply) => {
    // Validated strictly, like signed payloads: what the national system sent is what gets signed.
    const checked = validateAgainst('decision', request.body);
    if (!checked.ok) throw new GatewayError('BODY_INVALID', `decision ${checked.errors.join('; ')}`);
    const result = await publisher.decide(request.body as DecisionInput, request.apiClient?.id);
    return reply.code(result.replayed ? 200 : 201).send(result);
  });
}
