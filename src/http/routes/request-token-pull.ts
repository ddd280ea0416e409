/**
 * What the partner routes read with a request token share (docs/protocol.md, "Request tokens"): the hook that
 * accepts the token before anything else is looked at, the caller it names, and the paging query
 * (`after`, `limit`). `feed`, `snapshot` and `GET /monitoring` each register in a context of their own with it,
 * so the hook guards them alone.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { GatewayConfig } from '../../config/types.ts';
import type { ChainCache } from '../../crypto/chain-cache.ts';
import { GatewayError } from '../../errors.ts';
import type { GatewayMetrics } from '../../metrics/metrics.ts';
import { verifyRequestToken } from '../../partner-api/request-token.ts';
import type { Store } from '../../store/types.ts';
import { problemOf, sendProblem } from '../problem.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** adminId of the partner whose request token was accepted. */
    tokenPartner: string | undefined;
  }
}

export interface RequestTokenDeps {
  config: GatewayConfig;
  store: Store;
  cache: ChainCache;
  clock: () => Date;
  /** Each refused token is counted here, where it is refused (reason `request-token`). */
  metrics: Pick<GatewayMetrics, 'partnerRefused'>;
}

export interface PageQuery {
  after?: string;
  limit?: string;
}

// The app's validator does not coerce, so numbers arrive as strings: their shape is checked here and their
// range in pageQuery. `attachValidation` lets a bad query string be a 400 BAD_REQUEST, not BODY_INVALID.
export const pageQuerystring = {
  type: 'object',
  additionalProperties: false,
  properties: {
    after: { type: 'string', minLength: 1, maxLength: 256 },
    limit: { type: 'string', pattern: '^[0-9]{1,7}$' },
  },
} as const;

/** Refuses, in onRequest, every request of this context without an accepted token: an unauthenticated caller
 * learns nothing from query validation. */
export function requireRequestToken(pull: FastifyInstance, deps: RequestTokenDeps): void {
  pull.decorateRequest('tokenPartner', undefined);
  pull.addHook('onRequest', async (request, reply) => {
    const result = await verifyRequestToken(request.headers.authorization, {
      home: deps.config.home.adminId,
      partners: deps.config.partners,
      tlsPeer: request.partner,
      store: deps.store,
      now: deps.clock(),
      cache: deps.cache,
    });
    if (!result.ok) {
      deps.metrics.partnerRefused('request-token');
      // A partner identified by mTLS is named as such; otherwise the token's `iss` is only a claim.
      const claimed =
        request.partner === undefined ? claimedIssuer(request.headers.authorization) : undefined;
      request.log.warn(
        request.partner === undefined
          ? { claimedIssuer: claimed, address: request.ip, rule: result.detail }
          : { partner: request.partner, address: request.ip, rule: result.detail },
        request.partner === undefined
          ? `request token refused (claimed issuer ${claimed ?? 'unknown'})`
          : `request token of ${request.partner} refused`,
      );
      void reply.header('www-authenticate', 'MRA');
      return sendProblem(reply, problemOf('UNAUTHORIZED', result.detail));
    }
    request.tokenPartner = result.partner;
    return undefined;
  });
}

/** The partner whose token the hook accepted. */
export function tokenCaller(request: FastifyRequest): string {
  // The hook refuses every request without an accepted token; this only guards against a wiring mistake.
  if (request.tokenPartner === undefined) throw new GatewayError('UNAUTHORIZED', 'no request token');
  return request.tokenPartner;
}

export function pageQuery(
  request: FastifyRequest<{ Querystring: PageQuery }>,
  limits: { defaultLimit: number; maxLimit: number },
): { after: string | undefined; limit: number } {
  if (request.validationError) {
    throw new GatewayError('BAD_REQUEST', `the ${request.validationError.message}`);
  }
  const { after, limit } = request.query;
  const n = limit === undefined ? limits.defaultLimit : Number(limit);
  if (!Number.isInteger(n) || n < 1 || n > limits.maxLimit) {
    throw new GatewayError('BAD_REQUEST', `limit must be an integer from 1 to ${limits.maxLimit}`);
  }
  return { after, limit: n };
}

/** The `iss` a request token claims (not verified): names the caller in the refusal's log line. */
function claimedIssuer(authorization: string | undefined): string | undefined {
  const payload = /^MRA [^.]{1,4096}\.([A-Za-z0-9_-]{1,4096})\./.exec(authorization ?? '')?.[1];
  if (payload === undefined) return undefined;
  try {
    const iss = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { iss?: unknown }).iss;
    return typeof iss === 'string' && /^[A-Z0-9-]{2,16}$/.test(iss) ? iss : undefined;
  } catch {
    return undefined;
  }
}
