/**
 * The strict readers called directly: the JSON reader against JSON.parse (it may refuse more, never accept
 * what JSON.parse refuses nor read a value differently), the compact JWS pre-check and the whole verifier (a
 * mutated record never verifies), the query-string reader (a map it accepts reads back the same when
 * re-encoded), and the register import's NDJSON and CSV line readers (every line read or refused, nothing
 * thrown). A reader that throws is a violation: its callers turn only results into answers.
 */
import fc from 'fast-check';
import { createChainCache } from '../../src/crypto/chain-cache.ts';
import { precheckCompactJws, RECORD_PROFILE } from '../../src/crypto/compact-jws.ts';
import { parseJsonDocument, parseStrictJson } from '../../src/crypto/strict-json.ts';
import { verifySignedObject } from '../../src/crypto/verify-signed.ts';
import { GatewayError } from '../../src/errors.ts';
import { parseQueryString } from '../../src/http/strict-input.ts';
import { csvLines } from '../../src/register-import/csv.ts';
import { jsonLines } from '../../src/register-import/jsonl.ts';
import { decisionBody, hostileBody, queryString } from '../support/fuzz-inputs.ts';
import { jwsEdit } from '../support/fuzz-jws.ts';
import { applyEdit, mutatedBytes, mutatedJson, textEdit } from '../support/fuzz-mutate.ts';
import { type FuzzContext, Violation } from './context.ts';
import { mutate } from './partner-targets.ts';
import { type Target, target } from './target.ts';

function readerFault(what: string, detail: string): never {
  throw new Violation('reader', `${what}: ${detail}`);
}

async function drain(lines: AsyncGenerator<unknown>, what: string): Promise<number> {
  let n = 0;
  try {
    for await (const _ of lines) n += 1;
  } catch (error) {
    // Refusing a whole body (a CSV header naming unknown columns) is a GatewayError the route answers 4xx.
    if (error instanceof GatewayError && error.code !== 'INTERNAL') return n;
    readerFault(what, `threw ${(error as Error).message}`);
  }
  return n;
}

export function readerTargets(ctx: FuzzContext): Target[] {
  const decision = JSON.parse(decisionBody('2025-03-01')) as Record<string, unknown>;
  const seed = fc.nat({ max: ctx.genuine.length - 1 });
  // As the inbound path verifies: chains already validated are not validated again (an unchanged x5c).
  const cache = createChainCache(64);
  const csv = 'aeoId,decision,programme,name,roles\nPE1,certify,AEO-F,"N, ""quoted""",exporter;importer\n';
  return [
    target(
      'reader: strict JSON vs JSON.parse',
      10,
      fc.oneof(
        mutatedJson(decision),
        hostileBody.map((b) => Buffer.from(b, 'latin1').toString('utf8')),
        fc.json({ depthSize: 'small' }),
      ),
      async (text) => {
        const bytes = Buffer.from(text, 'utf8');
        let strict: ReturnType<typeof parseStrictJson>;
        try {
          strict = parseStrictJson(bytes, { maxDepth: 64 });
          parseJsonDocument(bytes);
        } catch (error) {
          readerFault(
            'strict JSON',
            `threw ${(error as Error).message} on ${JSON.stringify(text.slice(0, 200))}`,
          );
        }
        if (!strict.ok) return;
        let loose: unknown;
        try {
          loose = JSON.parse(bytes.toString('utf8'));
        } catch {
          readerFault(
            'strict JSON',
            `accepted what JSON.parse refuses: ${JSON.stringify(text.slice(0, 200))}`,
          );
        }
        if (JSON.stringify(strict.value) !== JSON.stringify(loose))
          readerFault(
            'strict JSON',
            `reads another value than JSON.parse: ${JSON.stringify(text.slice(0, 200))}`,
          );
      },
    ),
    target(
      'reader: compact JWS pre-check and verifier',
      8,
      fc.tuple(seed, fc.array(jwsEdit, { minLength: 1, maxLength: 3 })),
      async ([i, edits]) => {
        const original = ctx.genuine[i]!;
        const token = mutate(original, edits);
        try {
          precheckCompactJws(token, RECORD_PROFILE);
        } catch (error) {
          readerFault('JWS pre-check', `threw ${(error as Error).message}`);
        }
        const verified = await verifySignedObject(token, {
          profile: RECORD_PROFILE,
          stores: [ctx.clTrust],
          at: new Date(),
          cache,
        }).catch((error: unknown) => readerFault('JWS verifier', `threw ${(error as Error).message}`));
        if (verified.ok && token !== original)
          readerFault('JWS verifier', `a mutated record verified: ${token.slice(0, 300)}`);
      },
    ),
    target(
      'reader: query strings',
      6,
      fc.oneof(
        queryString,
        fc.string({ maxLength: 80, unit: 'binary' }),
        textEdit.map((e) => applyEdit('a=1&b=%C3%A9', e).toString('latin1')),
      ),
      async (text) => {
        let parsed: Record<string, string>;
        try {
          parsed = parseQueryString(text);
        } catch (error) {
          readerFault('query string', `threw ${(error as Error).message}`);
        }
        if (Object.getPrototypeOf(parsed) !== null) readerFault('query string', 'the map has a prototype');
        if (Object.getOwnPropertySymbols(parsed).length > 0) return;
        const again = parseQueryString(
          Object.entries(parsed)
            .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
            .join('&'),
        );
        if (JSON.stringify(Object.entries(again)) !== JSON.stringify(Object.entries(parsed)))
          readerFault('query string', `does not read back: ${JSON.stringify(text)}`);
      },
    ),
    target(
      'reader: register import lines (NDJSON, CSV)',
      6,
      fc.tuple(
        fc.oneof(
          mutatedJson(decision).map((l) => Buffer.from(`${l}\n${JSON.stringify(decision)}\r\n\n`, 'utf8')),
          mutatedBytes(csv),
        ),
        fc.integer({ min: 1, max: 64 }),
      ),
      async ([bytes, chunk]) => {
        const chunks: Buffer[] = [];
        for (let i = 0; i < bytes.length; i += chunk) chunks.push(bytes.subarray(i, i + chunk));
        const n = await drain(jsonLines(chunks), 'NDJSON lines');
        await drain(csvLines(chunks), 'CSV lines');
        if (bytes.length > 0 && n === 0 && bytes.some((b) => b > 0x20))
          readerFault('NDJSON lines', 'read nothing of a non-blank body');
      },
    ),
  ];
}
