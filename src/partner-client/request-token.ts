/** The caller's side of a request token: a fresh one, signed under the request profile, for every request. */
import { randomUUID } from 'node:crypto';
import type { Signer } from '../config/types.ts';
import { REQUEST_PROFILE } from '../crypto/compact-jws.ts';
import { signCompactJws } from '../crypto/jws-verify.ts';
import type { RequestClaims } from '../protocol/request-token.ts';

/** What this gateway asks for its own tokens: one request, with room for a slow connection. */
export const TOKEN_LIFETIME_S = 120;

export interface SignOptions {
  /** Time of signing; tests pass a past one to make an expired token. */
  now?: Date;
  lifetimeSeconds?: number;
  jti?: string;
}

export function signRequestToken(
  signer: Signer,
  who: { iss: string; aud: string },
  options: SignOptions = {},
): Promise<string> {
  const iat = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const claims: RequestClaims = {
    iss: who.iss,
    aud: who.aud,
    iat,
    exp: iat + (options.lifetimeSeconds ?? TOKEN_LIFETIME_S),
    jti: options.jti ?? randomUUID(),
  };
  return signCompactJws(
    Buffer.from(JSON.stringify(claims), 'utf8'),
    { alg: signer.alg, typ: REQUEST_PROFILE.typ, x5c: [...signer.x5c], kid: signer.kid },
    signer.key,
  );
}
