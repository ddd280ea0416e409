/**
 * The serving side of request tokens of `feed` and `snapshot` (docs/protocol.md, Endpoints; docs/threats.md 51): the caller proves who it
 * is in every mode, mTLS or not, with `Authorization: MRA <jws>` signed under its signing profile. Which
 * partner called is decided by the anchors the chain leads to; `iss` only has to agree with them.
 */
import type { ChainCache } from '../crypto/chain-cache.ts';
import { REQUEST_PROFILE } from '../crypto/compact-jws.ts';
import { verifySignedObject } from '../crypto/verify-signed.ts';
import type { Partner } from '../mra/types.ts';
import { CLOCK_SKEW_S, MAX_TOKEN_LIFETIME_S, type RequestClaims } from '../protocol/request-token.ts';
import type { Sql } from '../store/types.ts';
import { validateAgainst } from '../validation.ts';

/** How often used `jti` rows past their expiry are deleted, per store. */
const PURGE_INTERVAL_MS = 60_000;

export interface RequestTokenContext {
  /** adminId of this gateway: the only acceptable `aud`. */
  home: string;
  partners: readonly Partner[];
  /** The partner mTLS identified, when mTLS is on: `iss` must be it. */
  tlsPeer: string | undefined;
  /** Where used `jti` values are kept, so that every replica refuses a replay. */
  store: Sql;
  now: Date;
  cache?: ChainCache;
}

export type RequestTokenResult = { ok: true; partner: string } | { ok: false; detail: string };

/** RFC 9110: the scheme is case-insensitive; one space, then the token. */
const AUTHORIZATION = /^MRA ([^\s]+)$/i;

export async function verifyRequestToken(
  authorization: string | undefined,
  ctx: RequestTokenContext,
): Promise<RequestTokenResult> {
  if (authorization === undefined || authorization === '') {
    return refuse('a request token is required: Authorization: MRA <jws>');
  }
  const match = AUTHORIZATION.exec(authorization);
  if (match === null) return refuse('the Authorization header must be "MRA <jws>"');

  const stores = ctx.partners
    .map((p) => p.trust)
    .sort((a, b) => Number(b.adminId === ctx.tlsPeer) - Number(a.adminId === ctx.tlsPeer));
  const verified = await verifySignedObject(match[1], {
    profile: REQUEST_PROFILE,
    stores,
    at: ctx.now,
    ...(ctx.cache ? { cache: ctx.cache } : {}),
  });
  if (!verified.ok) return refuse(`request token ${verified.code}: ${verified.detail}`);
  const schema = validateAgainst('mra-request-1', verified.payload);
  if (!schema.ok) return refuse(`request token payload ${schema.errors.join('; ')}`);
  const claims = verified.payload as RequestClaims;

  if (claims.iss !== verified.signer) {
    return refuse(`iss must name the partner whose anchors the token chains to (${verified.signer})`);
  }
  if (ctx.tlsPeer !== undefined && claims.iss !== ctx.tlsPeer) {
    return refuse('iss must be the partner of the TLS client certificate');
  }
  if (claims.aud !== ctx.home) return refuse(`aud must be ${ctx.home}`);
  const now = Math.floor(ctx.now.getTime() / 1000);
  if (claims.exp <= claims.iat || claims.exp - claims.iat > MAX_TOKEN_LIFETIME_S) {
    return refuse(`exp must be after iat and at most ${MAX_TOKEN_LIFETIME_S} s after it`);
  }
  if (claims.iat > now + CLOCK_SKEW_S) return refuse('iat is in the future');
  if (claims.exp <= now - CLOCK_SKEW_S) return refuse('the request token has expired');

  // Last, so that only tokens that passed every other rule take a row.
  await purgeExpired(ctx.store, ctx.now);
  const fresh = await ctx.store.query<{ jti: string }>(
    `INSERT INTO request_jti (jti, partner, expires_at) VALUES ($1, $2, $3)
     ON CONFLICT (jti) DO NOTHING RETURNING jti`,
    // Scoped by issuer: a partner can never use up another partner's jti values.
    [`${claims.iss}:${claims.jti}`, claims.iss, new Date((claims.exp + CLOCK_SKEW_S) * 1000).toISOString()],
  );
  if (fresh.length === 0) return refuse('jti was already used: every request needs a new token');
  return { ok: true, partner: verified.signer };
}

function refuse(detail: string): RequestTokenResult {
  return { ok: false, detail };
}

const lastPurge = new WeakMap<Sql, number>();

/**
 * A row may go once its token can no longer be accepted (exp plus the skew, as stored), since an expired
 * replay is refused by its exp anyway. Done at most once a minute per store, not on every request.
 */
async function purgeExpired(store: Sql, now: Date): Promise<void> {
  const last = lastPurge.get(store) ?? 0;
  if (now.getTime() - last < PURGE_INTERVAL_MS) return;
  lastPurge.set(store, now.getTime());
  await store.query('DELETE FROM request_jti WHERE expires_at < $1', [now.toISOString()]);
}
