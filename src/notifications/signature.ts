/**
 * Standard Webhooks signing (standardwebhooks.com): the secret is `whsec_` + base64 of random bytes, the HMAC
 * key is those bytes, and `webhook-signature` is `v1,` + base64 HMAC-SHA256 of `id.timestamp.body`, the
 * timestamp in Unix seconds. A receiver verifies with any Standard Webhooks library. While a rotated-out
 * secret still signs, the header carries one signature per secret, space-separated, the newest first: a
 * receiver holding either secret finds its own.
 */
import { createHmac, randomBytes } from 'node:crypto';

const PREFIX = 'whsec_';

/** A new signing secret: 32 random bytes. */
export function newSecret(): string {
  return `${PREFIX}${randomBytes(32).toString('base64')}`;
}

export function signatureOf(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`, 'utf8').digest('base64')}`;
}

/** The headers of one delivery attempt; `id` stays the same across attempts so receivers can deduplicate. */
export function webhookHeaders(
  secrets: string | readonly string[],
  id: string,
  body: string,
  at: Date,
): Record<string, string> {
  const timestamp = Math.floor(at.getTime() / 1_000);
  const all = typeof secrets === 'string' ? [secrets] : secrets;
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': all.map((s) => signatureOf(s, id, timestamp, body)).join(' '),
  };
}
