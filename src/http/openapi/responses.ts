/**
 * Answer schemas of the routes whose answers had none: written from the result types of the flows they call
 * (named at each), as documentation. Every one is marked `documented()`: the answer is still written by
 * JSON.stringify (or sent as the bytes the flow made), so no member is added, dropped or converted.
 */
import { answerSchema, batchSchema, compactBatchSchema } from '../../lookup/answer-schema.ts';
import { SUMMARY_SCHEMA } from '../../monitoring/summaries/schema.ts';
import { documented } from './compilers.ts';

const str = { type: 'string' } as const;
const strOrNull = { type: ['string', 'null'] } as const;
const int = { type: 'integer' } as const;
const intOrNull = { type: ['integer', 'null'] } as const;
const bool = { type: 'boolean' } as const;
const counts = { type: 'object', additionalProperties: int } as const;

function object(properties: Record<string, object>, optional: readonly string[] = []) {
  return {
    type: 'object',
    additionalProperties: false,
    required: Object.keys(properties).filter((name) => !optional.includes(name)),
    properties,
  } as const;
}

/** `GET /health/live`. */
export const liveResponse = documented({ ...object({ status: { const: 'ok' } }), description: 'Alive.' });

/**
 * `GET /health/ready` (health.ts): `redis` only when the gateway runs job queues; `readModel` only while the
 * lookup read model loads (lookup/service.ts, LoadState).
 */
const readiness = object(
  {
    status: { enum: ['ready', 'degraded', 'not-ready'] },
    database: bool,
    redis: bool,
    readModel: object(
      {
        state: { const: 'loading' },
        source: { enum: ['snapshot', 'database'] },
        operators: int,
        total: int,
        error: str,
      },
      ['error'],
    ),
  },
  ['redis', 'readModel'],
);
export const readyResponse = documented({
  ...readiness,
  description: 'Ready (200) or degraded (200, redis false): the database answers.',
});
export const notReadyResponse = documented({
  ...readiness,
  description: 'Not ready: the database does not answer, or the lookup read model is loading (readModel).',
});

/** `GET /mra/v1/.well-known/mra-gateway` (well-known.ts). */
export const wellKnownResponse = documented(
  object({
    adminId: str,
    protocol: { const: 'mra-exchange/1' },
    algorithms: { type: 'array', items: str },
    endpoints: object({ records: str, feed: str, snapshot: str }),
    keys: object({
      keys: {
        type: 'array',
        items: {
          type: 'object',
          required: ['kty', 'kid', 'alg', 'use', 'x5c'],
          properties: {
            kty: str,
            kid: str,
            alg: str,
            use: { const: 'sig' },
            x5c: { type: 'array', items: str },
          },
        },
      },
    }),
  }),
);

/** `POST /api/v1/decisions` (publishing/publish.ts, PublishResult). */
const publishResult = object({
  decisionId: str,
  aeoId: str,
  record: {
    oneOf: [
      object({ recordId: str, version: int, status: str, partners: { type: 'array', items: str } }),
      { type: 'null' },
    ],
  },
  replayed: bool,
});
export const decisionCreated = documented({
  ...publishResult,
  description: 'Applied: the record signed for partners, or null when partners are told nothing new.',
});
export const decisionReplayed = documented({
  ...publishResult,
  description: 'The same decisionId was applied before: nothing changed (replayed true).',
});

/** `POST /api/v1/partners/:adminId/pull` (inbound/pull.ts, PullReport). */
export const pullResponse = documented(
  object({
    partner: str,
    pages: int,
    records: int,
    outcomes: counts,
    caughtUp: bool,
    cursor: strOrNull,
    error: strOrNull,
  }),
);

/** inbound/reconcile.ts, ReconciliationReport. */
const reconciliationReport = object({
  id: str,
  partner: str,
  at: str,
  inSync: bool,
  partnerDigest: strOrNull,
  localDigest: str,
  partnerCount: intOrNull,
  localCount: int,
  detail: strOrNull,
});
export const reconcileResponse = documented(reconciliationReport);
export const reconciliationListResponse = documented(
  object({ reports: { type: 'array', items: reconciliationReport } }),
);

/** monitoring/summaries/held.ts, PushState. */
const pushState = object({
  state: { enum: ['delivered', 'pending', 'rejected'] },
  deliveredAt: strOrNull,
  attempts: int,
  nextAttemptAt: strOrNull,
  lastError: strOrNull,
  rejectedCode: strOrNull,
  receiptId: strOrNull,
});
const summaryPayload = {
  ...SUMMARY_SCHEMA,
  description: 'The signed monitoring summary (docs/protocol.md, "Monitoring summaries").',
} as const;
const issued = object({ created: bool, summary: summaryPayload, jws: str, push: pushState });
export const summaryIssuedCreated = documented({ ...issued, description: 'A new revision was signed.' });
export const summaryIssuedSame = documented({
  ...issued,
  description: 'The figures equal the latest revision: that one is returned, nothing was signed.',
});
const listed = object(
  {
    summaryId: str,
    reporter: str,
    subject: str,
    mraId: str,
    period: object({ from: str, to: str }),
    revision: int,
    issuedAt: str,
    digest: str,
    figures: { type: 'object' },
    jws: str,
    push: pushState,
    received: object({ at: str, outcome: { enum: ['accepted', 'superseded'] }, receiptId: str }),
  },
  ['push', 'received'],
);
export const summaryListResponse = documented(
  object({ direction: { enum: ['issued', 'received'] }, summaries: { type: 'array', items: listed } }),
);

/** `GET /dashboard/data` (monitoring/dashboard-data.ts, DashboardData, and the refreshed panels). */
export const dashboardDataResponse = documented(
  object({
    data: {
      type: 'object',
      required: ['generatedAt', 'home', 'partners', 'notifications', 'days'],
      properties: {
        generatedAt: str,
        home: str,
        partners: { type: 'array', items: { type: 'object' } },
        notifications: counts,
        days: { type: 'array', items: { type: 'object' } },
      },
    },
    html: str,
    updatedAt: str,
  }),
);

/** `GET /openapi/{api,partner}.json`. */
export const openApiDocumentResponse = documented({
  type: 'object',
  required: ['openapi', 'info', 'paths'],
  properties: { openapi: str, info: { type: 'object' }, paths: { type: 'object' } },
});

/** A redirect without a body (the dashboard's sign-in and sign-out). */
export const seeOther = (description: string) =>
  documented({
    description,
    type: 'null',
    headers: { location: { type: 'string' }, 'set-cookie': { type: 'string' } },
  });

/** `GET /api/v1/operators…`: one lookup answer, the schema of lookup/answer-schema.ts. */
export const lookupAnswerResponse = documented({ ...answerSchema, description: 'The lookup answer.' });

/** `POST /api/v1/operators/lookup`: one instant, one answer per item in order. */
export const lookupBatchResponse = documented({
  ...batchSchema,
  description: 'The full form (the default).',
});

/** The same with `?form=compact`: shared parts once, in tables (lookup/answer-compact.ts). */
export const lookupCompactBatchResponse = documented({
  ...compactBatchSchema,
  description: 'The compact form (`form=compact`).',
});

/** What the manifest route answers: the form asked for. */
export const lookupManifestResponse = documented({
  oneOf: [lookupBatchResponse, lookupCompactBatchResponse],
  description: 'One answer per item, in order, all as of one instant, in the form asked for.',
});

/** A 204 answer: done, no body. */
export const removed = documented({ type: 'null', description: 'Done; no body.' });
