/**
 * The JSON shape of the monitoring report (src/monitoring/report-types.ts) as the route's response schema: the
 * answer is written by it, so a member the type does not have never leaves the gateway, and the schema is the
 * report's documentation for machines. Maps of counts take any key; a figure not known is left out (summary
 * figures) or null (the report's own).
 */
export const REPORT_FORMATS = ['json', 'csv', 'html'] as const;

const int = { type: 'integer' } as const;
const intOrNull = { type: ['integer', 'null'] } as const;
const str = { type: 'string' } as const;
const strOrNull = { type: ['string', 'null'] } as const;
const counts = { type: 'object', additionalProperties: int } as const;

function object(properties: Record<string, unknown>, nullable = false) {
  return {
    type: nullable ? ['object', 'null'] : 'object',
    required: Object.keys(properties),
    properties,
  };
}

/** Every member optional: a summary's figures leave out what is not known. */
function optional(properties: Record<string, unknown>) {
  return { type: 'object', properties };
}

const percentiles = optional({ p50: int, p95: int, p99: int });
const sizeSplit = optional({ sme: int, large: int, unknown: int });

const summaryFigures = optional({
  records: optional({ accepted: int, duplicate: int, superseded: int, rejected: counts }),
  operators: optional({
    recognised: int,
    byProgramme: counts,
    byRole: counts,
    bySize: optional({ micro: int, small: int, medium: int, large: int, unknown: int }),
  }),
  lookups: optional({ total: int, recognised: int, notRecognised: counts }),
  benefits: {
    type: 'array',
    items: {
      type: 'object',
      required: ['benefitId'],
      properties: { benefitId: str, applied: sizeSplit, refused: sizeSplit, refusalReasons: counts },
    },
  },
  latency: optional({ toReceiptMs: percentiles, toBorderMs: percentiles }),
});

const heldSummary = object(
  {
    summaryId: str,
    reporter: str,
    subject: str,
    revision: int,
    issuedAt: str,
    at: str,
    digest: str,
    figures: summaryFigures,
  },
  true,
);

const latency = object({ count: int, p50: intOrNull, p95: intOrNull, p99: intOrNull });

const mraTerms = {
  type: 'array',
  items: object({
    since: str,
    until: strOrNull,
    termsSha256: str,
    terms: object({
      mraId: str,
      status: str,
      inForceFrom: str,
      inForceUntil: strOrNull,
      programmes: { type: 'array', items: str },
      roles: { type: 'array', items: str },
      benefits: {
        type: 'array',
        items: object({ id: str, description: str, roles: { type: ['array', 'null'], items: str } }),
      },
    }),
  }),
};

export const reportResponse = object({
  schema: str,
  generatedAt: str,
  home: str,
  partner: str,
  mraId: str,
  period: object({ from: str, to: str }),
  mraTerms,
  outbound: object({
    register: object({
      operators: int,
      consenting: int,
      byStatus: counts,
      byProgramme: counts,
      byRole: counts,
      bySize: counts,
      publishedToPartner: int,
    }),
    records: object({ published: int, byStatus: counts }),
    deliveries: object({
      delivered: int,
      retried: int,
      dead: int,
      backlog: int,
      outcomes: object({ accepted: int, duplicate: int, superseded: int, rejected: counts }),
    }),
    latency: object({ toReceiptMs: latency }),
    partnerSummary: heldSummary,
  }),
  inbound: object({
    figures: summaryFigures,
    operators: object({ held: int, byStatus: counts }),
    statusChanges: counts,
    freshness: object({
      lastReceiptAt: strOrNull,
      lastPulledAt: strOrNull,
      lastReconciliation: object({ at: str, inSync: { type: 'boolean' } }, true),
    }),
    summaryIssued: heldSummary,
  }),
  daily: {
    type: 'array',
    items: object({
      date: str,
      recordsReceived: int,
      recordsPublished: int,
      lookups: int,
      lookupsRecognised: int,
      benefitsApplied: int,
      benefitsRefused: int,
    }),
  },
});
