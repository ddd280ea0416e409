/**
 * The partner listener: mutated signed records (the JWS edited, or its payload edited and signed again with
 * the partner's real key), mutated batch envelopes, feed, snapshot and monitoring query strings under fresh,
 * missing and mutated request tokens, monitoring summaries, and every other route. A receipt must never say
 * `accepted` or `superseded` for a text that is not a genuine record or a re-signed one that is valid.
 */
import fc from 'fast-check';
import { RECORD_PROFILE } from '../../src/crypto/compact-jws.ts';
import { recordDigest } from '../../src/crypto/digest.ts';
import { signCompactJws } from '../../src/crypto/jws-verify.ts';
import { parseJsonDocument } from '../../src/crypto/strict-json.ts';
import { validateAgainst } from '../../src/validation.ts';
import { requestToken } from '../support/exchange.ts';
import { concrete, hostileBody, queryString, routesOf } from '../support/fuzz-inputs.ts';
import { applyJwsEdit, editedPayloadText, type JwsEdit, jwsEdit } from '../support/fuzz-jws.ts';
import { jsonEdit, mutatedJson } from '../support/fuzz-mutate.ts';
import { type FuzzContext, type TargetStats, Violation } from './context.ts';
import { type Target, target } from './target.ts';

const JSON_TYPE = { 'content-type': 'application/json' };

/** The JWS with each edit applied in turn; an edit that cannot apply to what the last one left is skipped. */
export function mutate(jws: string, edits: readonly JwsEdit[]): string {
  let out = jws;
  for (const e of edits) {
    try {
      out = applyJwsEdit(out, e);
    } catch {
      // A header or payload edit on a text an earlier edit made unreadable: nothing to edit.
    }
  }
  return out;
}

/** Whether a payload text is a record the gateway may accept from CL: strict JSON, the schema, CL's, not future. */
function validRecordText(text: string): boolean {
  const parsed = parseJsonDocument(Buffer.from(text, 'utf8'));
  if (!parsed.ok || !validateAgainst('aeo-status-1', parsed.value).ok) return false;
  const r = parsed.value as { issuer: string; issuedAt: string };
  return r.issuer === 'CL' && Date.parse(r.issuedAt) <= Date.now() + 5 * 60_000;
}

async function postRecords(
  ctx: FuzzContext,
  stats: TargetStats,
  payload: string | Buffer,
  where: string,
): Promise<void> {
  const res = await ctx.send(
    'partner',
    { method: 'POST', url: '/mra/v1/records', headers: JSON_TYPE, payload },
    stats,
    where,
  );
  if (res.status !== 200) return;
  const receipt = (JSON.parse(res.body) as { receipt: string }).receipt;
  const results = (
    JSON.parse(Buffer.from(receipt.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      results: { index: number; digest: string; outcome: string }[];
    }
  ).results;
  for (const r of results) {
    if ((r.outcome === 'accepted' || r.outcome === 'superseded') && !ctx.allowed.has(r.digest)) {
      stats.acceptedInvalid += 1;
      throw new Violation(
        'accepted-invalid',
        `${where}: record at index ${r.index} (digest ${r.digest}) was ${r.outcome}`,
      );
    }
  }
}

export function partnerTargets(ctx: FuzzContext): Target[] {
  const seeds = ctx.genuine;
  const seed = fc.nat({ max: seeds.length - 1 });
  const routes = routesOf(ctx.gateway.app).filter(
    (r) => !['/mra/v1/records', '/mra/v1/feed', '/mra/v1/snapshot', '/mra/v1/monitoring'].includes(r.path),
  );
  const clSigner = ctx.clSigner;
  return [
    target(
      'POST /mra/v1/records: mutated records',
      16,
      fc.tuple(seed, fc.array(jwsEdit, { minLength: 1, maxLength: 2 }), fc.option(seed, { freq: 3 })),
      async ([i, edits, companion], stats) => {
        const records = [mutate(seeds[i]!, edits)];
        if (companion !== null) records.push(seeds[companion]!);
        await postRecords(ctx, stats, JSON.stringify({ records }), 'mutated record');
      },
    ),
    target(
      'POST /mra/v1/records: payloads re-signed',
      4,
      fc.tuple(seed, jsonEdit),
      async ([i, edit], stats) => {
        const text = editedPayloadText(seeds[i]!, edit);
        const jws = await signCompactJws(
          Buffer.from(text, 'utf8'),
          { alg: clSigner.alg, typ: RECORD_PROFILE.typ, x5c: [...clSigner.x5c], kid: clSigner.kid },
          clSigner.key,
        );
        if (validRecordText(text)) ctx.allowed.add(recordDigest(jws));
        await postRecords(ctx, stats, JSON.stringify({ records: [jws] }), 're-signed payload');
      },
    ),
    target(
      'POST /mra/v1/records: mutated envelopes',
      7,
      fc.oneof(mutatedJson({ records: [seeds[0], seeds[1]] }), hostileBody),
      (body, stats) => postRecords(ctx, stats, body, 'mutated envelope'),
    ),
    target(
      'GET /mra/v1/feed|snapshot|monitoring: queries and tokens',
      10,
      fc.tuple(
        fc.constantFrom('/mra/v1/feed', '/mra/v1/snapshot', '/mra/v1/monitoring'),
        queryString,
        // Mostly a valid token, so that the query reaches the route; else a mutated one, or none.
        fc.oneof(
          { arbitrary: fc.constant('valid' as const), weight: 6 },
          { arbitrary: fc.array(jwsEdit, { minLength: 1, maxLength: 2 }), weight: 2 },
          { arbitrary: fc.constant('none' as const), weight: 1 },
        ),
      ),
      async ([path, query, token], stats) => {
        const fresh = token === 'none' ? undefined : await requestToken(clSigner, 'CL', 'PE');
        const auth =
          fresh === undefined || token === 'valid' || token === 'none' ? fresh : mutate(fresh, token);
        const headers: Record<string, string> = auth === undefined ? {} : { authorization: `MRA ${auth}` };
        const url = query === '' ? path : `${path}?${query}`;
        await ctx.send('partner', { method: 'GET', url, headers }, stats, 'pull query');
      },
    ),
    target(
      'POST /mra/v1/monitoring: mutated summaries',
      4,
      fc.oneof(
        mutatedJson({ summaries: [seeds[0]] }),
        fc
          .tuple(seed, fc.array(jwsEdit, { minLength: 1, maxLength: 2 }))
          .map(([i, e]) => JSON.stringify({ summaries: [mutate(seeds[i]!, e)] })),
        hostileBody,
      ),
      async (payload, stats) => {
        const req = { method: 'POST', url: '/mra/v1/monitoring', headers: JSON_TYPE, payload };
        await ctx.send('partner', req, stats, 'summaries');
      },
    ),
    target(
      'partner listener: every other route',
      3,
      fc.tuple(fc.nat({ max: Math.max(routes.length - 1, 0) }), queryString, hostileBody),
      async ([i, query, body], stats) => {
        const route = routes[i];
        if (route === undefined) return;
        const url = `${concrete(route.path)}${query === '' ? '' : `?${query}`}`;
        const hasBody = route.method !== 'GET' && route.method !== 'DELETE';
        const req = hasBody
          ? { method: route.method, url, headers: JSON_TYPE, payload: body }
          : { method: route.method, url };
        await ctx.send('partner', req, stats, 'partner route');
      },
    ),
  ];
}
