import type { FastifyInstance } from 'fastify';
import type { GatewayConfig } from '../../config/types.ts';
import { ALLOWED_ALGORITHMS } from '../../crypto/types.ts';
import { problems } from '../openapi/problem-schema.ts';
import { wellKnownResponse } from '../openapi/responses.ts';

/** `GET /.well-known/mra-gateway`: who this gateway is and every key it currently signs with. */
export function registerWellKnownRoute(app: FastifyInstance, config: GatewayConfig): void {
  // Exported from the certificate, never from the private key, so no private member can leak into the JWK.
  const publicKeys = config.home.signers.map((s) => ({
    ...s.chain[0]!.publicKey.export({ format: 'jwk' }),
    kid: s.kid,
    alg: s.alg,
    use: 'sig',
    x5c: [...s.x5c],
  }));
  const schema = {
    summary: 'Who this gateway is and the keys it signs with',
    response: { 200: wellKnownResponse, ...problems(403) },
  };
  app.get('/.well-known/mra-gateway', { schema }, async (request) => {
    const base = config.server.publicUrl ?? `${request.protocol}://${request.host}`;
    return {
      adminId: config.home.adminId,
      protocol: 'mra-exchange/1',
      algorithms: [...ALLOWED_ALGORITHMS],
      endpoints: {
        records: `${base}/mra/v1/records`,
        feed: `${base}/mra/v1/feed`,
        snapshot: `${base}/mra/v1/snapshot`,
      },
      keys: { keys: publicKeys },
    };
  });
}
