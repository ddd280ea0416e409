/**
 * The one rule for a bearer token of the API listener: what the listener accepts after `Bearer `
 * (http/api-auth.ts) and what `tokens hash` checks before hashing (cli/tokens.ts). 16 to 512 characters of the
 * token68 alphabet (RFC 6750), then any `=` padding.
 */
const TOKEN_CHARACTERS = '[A-Za-z0-9._~+/-]{16,512}=*';

/** A whole string that is an acceptable token. */
export const API_TOKEN = new RegExp(`^${TOKEN_CHARACTERS}$`);

/** An Authorization header carrying an acceptable token; the token is group 1. */
export const BEARER_HEADER = new RegExp(`^Bearer (${TOKEN_CHARACTERS})$`);
