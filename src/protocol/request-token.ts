/** The request token of docs/protocol.md (Endpoints): its claims and the time rules both sides apply. */

/** docs/protocol.md: a token is valid at most 5 minutes. */
export const MAX_TOKEN_LIFETIME_S = 300;
/** Clocks of two administrations are never exactly equal; this much either way is tolerated. */
export const CLOCK_SKEW_S = 60;

export interface RequestClaims {
  iss: string;
  aud: string;
  iat: number;
  exp: number;
  jti: string;
}
