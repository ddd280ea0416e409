/** JSON lines (`application/x-ndjson`): one decision per line, exactly the body of `POST /api/v1/decisions`. */
import { parseStrictJsonObject } from '../crypto/strict-json.ts';
import { MAX_DECISION_DEPTH } from '../publishing/decision.ts';
import {
  type ByteSource,
  type ImportLine,
  isBlank,
  MAX_LINE_BYTES,
  splitLines,
  withoutBom,
} from './lines.ts';

export async function* jsonLines(source: ByteSource): AsyncGenerator<ImportLine> {
  for await (const l of splitLines(source, MAX_LINE_BYTES)) {
    if (l.tooLong) {
      yield {
        line: l.line,
        code: 'LINE_TOO_LONG',
        detail: `the line is longer than ${MAX_LINE_BYTES} bytes`,
      };
      continue;
    }
    const bytes = withoutBom(l);
    // Blank lines (a trailing one, a separator) are no decision and are not counted.
    if (isBlank(bytes)) continue;
    // The same strict reading as the decisions API: no duplicate members, no lone surrogates, no __proto__.
    const parsed = parseStrictJsonObject(bytes, { maxDepth: MAX_DECISION_DEPTH });
    yield parsed.ok
      ? { line: l.line, value: parsed.value }
      : { line: l.line, code: 'LINE_MALFORMED', detail: `not a strict JSON object: ${parsed.detail}` };
  }
}
