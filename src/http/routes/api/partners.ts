/**
 * Pulling and reconciliation for the gateway's operators: run a partner's feed catch-up or reconciliation
 * now (admin scope), and read the reconciliation reports (admin or monitoring scope). Each handler makes one
 * call into the flow.
 */
import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../../../errors.ts';
import type { PartnerSync } from '../../../inbound/partner-sync.ts';
import { ADMIN_ID_PATTERN } from '../../../protocol/names.ts';
import { problems } from '../../openapi/problem-schema.ts';
import { pullResponse, reconcileResponse, reconciliationListResponse } from '../../openapi/responses.ts';

interface PartnerParams {
  adminId: string;
}

const params = {
  type: 'object',
  required: ['adminId'],
  properties: { adminId: { type: 'string', pattern: ADMIN_ID_PATTERN } },
} as const;

// These POSTs carry no body: the route accepts one sent without a media type, besides application/json.
const noBody = { mediaTypes: [/^$/] };

/** `POST /partners/:adminId/pull` and `POST /partners/:adminId/reconcile`. */
export function registerPartnerSyncRoutes(app: FastifyInstance, sync: PartnerSync): void {
  app.post<{ Params: PartnerParams }>(
    '/partners/:adminId/pull',
    {
      config: noBody,
      schema: {
        summary: 'Pull the partner’s feed now',
        params,
        response: { 200: pullResponse, ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => sync.pull(request.params.adminId, request.apiClient?.id),
  );
  app.post<{ Params: PartnerParams }>(
    '/partners/:adminId/reconcile',
    {
      config: noBody,
      schema: {
        summary: 'Reconcile with the partner’s snapshot now',
        params,
        response: { 200: reconcileResponse, ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => sync.reconcile(request.params.adminId, request.apiClient?.id),
  );
}

interface ReportsQuery {
  partner?: string;
  limit?: string;
}

/** `GET /reconciliation?partner=&limit=`: the latest reports, newest first. */
export function registerReconciliationRoutes(app: FastifyInstance, sync: PartnerSync): void {
  app.get<{ Querystring: ReportsQuery }>(
    '/reconciliation',
    {
      attachValidation: true,
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            partner: { type: 'string', pattern: '^[A-Z]{2}$' },
            limit: { type: 'string', pattern: '^[0-9]{1,4}$' },
          },
        },
        response: { 200: reconciliationListResponse, ...problems(400, 401, 403) },
      },
    },
    async (request) => {
      if (request.validationError) {
        throw new GatewayError('BAD_REQUEST', `the ${request.validationError.message}`);
      }
      const limit = request.query.limit === undefined ? 20 : Number(request.query.limit);
      if (limit < 1 || limit > 500) throw new GatewayError('BAD_REQUEST', 'limit must be from 1 to 500');
      const { partner } = request.query;
      return { reports: await sync.reports(partner === undefined ? { limit } : { partner, limit }) };
    },
  );
}
