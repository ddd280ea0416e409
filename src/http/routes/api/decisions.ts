import type { FastifyInstance } from 'fastify';
import { parseStrictJsonObject } from '../../../crypto/strict-json.ts';
import { GatewayError } from '../../../errors.ts';
import { type DecisionInput, MAX_DECISION_DEPTH } from '../../../outbound/decision.ts';
import type { Publisher } from '../../../outbound/publish.ts';
import { validateAgainst } from '../../../validation.ts';

/** `POST /api/v1/decisions`: the national AEO system records a decision about one operator. */
export function registerDecisionRoutes(app: FastifyInstance, publisher: Publisher): void {
  // In a context of its own, so that the strict parser below applies to this route only.
  void app.register(async (scoped) => {
    // What the national system sends becomes a signed record: read with the strict parser of signed payloads,
    // so a duplicate member or a lone surrogate is refused rather than silently resolved (THREATS.md 34-37).
    scoped.removeContentTypeParser('application/json');
    scoped.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => {
      const parsed = parseStrictJsonObject(body as Buffer, { maxDepth: MAX_DECISION_DEPTH });
      if (parsed.ok) done(null, parsed.value);
      else done(new GatewayError('BODY_INVALID', `the body is not a strict JSON object: ${parsed.detail}`));
    });

    scoped.post('/decisions', async (request, reply) => {
      // Validated strictly, like signed payloads: what the national system sent is what gets signed.
      const checked = validateAgainst('decision', request.body);
      if (!checked.ok) throw new GatewayError('BODY_INVALID', `decision ${checked.errors.join('; ')}`);
      const result = await publisher.decide(request.body as DecisionInput);
      return reply.code(result.replayed ? 200 : 201).send(result);
    });
  });
}
