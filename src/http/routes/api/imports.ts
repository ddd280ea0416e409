/**
 * `POST /api/v1/register/imports`: bulk import of the national register, JSON lines or CSV, streamed (the
 * file is never held whole); `GET /api/v1/register/imports[/:importId]`: progress, also while one runs.
 */
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../../../errors.ts';
import { csvLines } from '../../../register-import/csv.ts';
import type { RegisterImporter } from '../../../register-import/importer.ts';
import { jsonLines } from '../../../register-import/jsonl.ts';
import type { ImportFormat } from '../../../register-import/progress.ts';
import { problems, text } from '../../openapi/problem-schema.ts';

/** A national register of a million operators in JSON lines is well under this. */
export const IMPORT_BODY_LIMIT = 1024 ** 3;

const NDJSON = /^application\/x-ndjson(?:;\s*charset=utf-8)?$/i;
const CSV = /^text\/csv(?:;\s*charset=utf-8)?(?:;\s*header=present)?$/i;
const UUID = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';

const lineError = {
  type: 'object',
  properties: { line: { type: 'integer' }, code: { type: 'string' }, detail: { type: 'string' } },
} as const;
const progressSchema = {
  type: 'object',
  properties: {
    importId: { type: 'string' },
    format: { type: 'string' },
    state: { type: 'string' },
    runs: { type: 'integer' },
    startedAt: { type: 'string' },
    updatedAt: { type: 'string' },
    finishedAt: { type: ['string', 'null'] },
    linesRead: { type: 'integer' },
    applied: { type: 'integer' },
    replayed: { type: 'integer' },
    published: { type: 'integer' },
    rejected: { type: 'integer' },
    errors: { type: 'array', items: lineError },
    failure: { type: ['string', 'null'] },
  },
} as const;

export function registerImportRoutes(app: FastifyInstance, importer: RegisterImporter): void {
  // A context of its own: the body reaches the handler as the request stream, and no other parser (JSON
  // included, which would buffer up to the large limit of this route) is available here.
  void app.register(async (scoped) => {
    scoped.removeAllContentTypeParsers();
    scoped.addContentTypeParser(['application/x-ndjson', 'text/csv'], (_request, payload, done) => {
      done(null, payload);
    });

    scoped.post<{ Querystring: { importId?: string } }>(
      '/register/imports',
      {
        bodyLimit: IMPORT_BODY_LIMIT,
        config: { mediaTypes: [NDJSON, CSV] },
        schema: {
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: { importId: { type: 'string', pattern: UUID } },
          },
          // Documentation only: the body is streamed to the importer, which reads it line by line.
          body: {
            content: {
              'application/x-ndjson': { schema: text('One decision (schemas/decision.schema.json) a line.') },
              'text/csv': { schema: text('A header line, then one decision a line.') },
            },
          },
          response: { 200: progressSchema, 201: progressSchema, ...problems(400, 401, 403, 409, 413, 415) },
        },
      },
      async (request, reply) => {
        const format: ImportFormat = CSV.test(request.headers['content-type'] ?? '') ? 'csv' : 'ndjson';
        const body = limited(bodyStream(request.body as Readable), IMPORT_BODY_LIMIT);
        // The caller names the import to be able to follow it while it runs and to re-run it safely.
        const importId = request.query.importId ?? randomUUID();
        const lines = format === 'csv' ? csvLines(body) : jsonLines(body);
        const declared = Number(request.headers['content-length'] ?? 0);
        const run =
          declared > IMPORT_BODY_LIMIT
            ? Promise.reject(tooLarge())
            : importer.run({ importId, format, lines, actor: request.apiClient?.id });
        const result = await run.catch((error: unknown) => {
          // Stopped before the end of the body (over the limit, a bad CSV header, a running import): the rest
          // is not worth reading, and a connection with an unread body cannot carry another request.
          if (!request.raw.complete) void reply.header('connection', 'close');
          throw error;
        });
        void reply.header('location', `/api/v1/register/imports/${importId}`);
        return reply.code(result.runs === 1 ? 201 : 200).send(result);
      },
    );

    scoped.get<{ Params: { importId: string } }>(
      '/register/imports/:importId',
      {
        schema: {
          params: { type: 'object', properties: { importId: { type: 'string', pattern: UUID } } },
          response: { 200: progressSchema, ...problems(400, 401, 403, 404) },
        },
      },
      async (request) => {
        const progress = await importer.get(request.params.importId);
        if (progress === undefined)
          throw new GatewayError('NOT_FOUND', `no import ${request.params.importId}`);
        return progress;
      },
    );

    scoped.get(
      '/register/imports',
      {
        schema: {
          response: {
            200: { type: 'object', properties: { imports: { type: 'array', items: progressSchema } } },
            ...problems(401, 403),
          },
        },
      },
      async () => ({ imports: await importer.list(50) }),
    );
  });
}

/**
 * An import that stops early (a bad CSV header) must not destroy the request: the socket would go with it
 * and the client would get a reset instead of the problem document (sent with `Connection: close`).
 */
function bodyStream(body: Readable): AsyncIterable<Uint8Array> {
  return { [Symbol.asyncIterator]: () => body.iterator({ destroyOnReturn: false }) };
}

const tooLarge = () =>
  new GatewayError('BODY_TOO_LARGE', `the import is over the limit of ${IMPORT_BODY_LIMIT} bytes`);

/**
 * fastify enforces bodyLimit only on bodies it reads itself; this one is streamed, so the limit is counted
 * here. A body that breaks off (the client went away) ends the import as failed rather than as finished.
 */
async function* limited(source: AsyncIterable<Uint8Array>, limit: number): AsyncGenerator<Uint8Array> {
  let total = 0;
  try {
    for await (const chunk of source) {
      total += chunk.byteLength;
      if (total > limit) throw tooLarge();
      yield chunk;
    }
  } catch (error) {
    if (error instanceof GatewayError) throw error;
    throw new GatewayError('BAD_REQUEST', 'the request body ended early', { cause: error });
  }
}
