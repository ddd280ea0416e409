import type { FastifyInstance } from 'fastify';
import type { InboundService } from '../../inbound/receive.ts';
import { problems } from '../openapi/problem-schema.ts';

/** docs/protocol.md, Transport: at most 1,000 records a batch. */
export const MAX_BATCH = 1000;

const bodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['records'],
  properties: { records: { type: 'array', minItems: 1, maxItems: MAX_BATCH, items: { type: 'string' } } },
} as const;

export function registerRecordsRoute(app: FastifyInstance, inbound: InboundService): void {
  app.post<{ Body: { records: string[] } }>(
    '/records',
    {
      schema: {
        summary: 'Push a batch of signed records; answered by a signed receipt',
        body: bodySchema,
        response: {
          200: { type: 'object', required: ['receipt'], properties: { receipt: { type: 'string' } } },
          ...problems(400, 401, 403, 413, 415),
        },
      },
    },
    async (request) => {
      const { receiptJws } = await inbound.receive({
        records: request.body.records,
        tlsPeer: request.partner,
      });
      return { receipt: receiptJws };
    },
  );
}
