/**
 * The strict reading of a monitoring summary's payload (docs/protocol.md, "Monitoring summaries"): every object
 * exact, every map's keys in their named set, counts integers ≥ 0, dates and timestamps by the project's one
 * date rule, and the period rules a schema cannot state. The schema is built here from the protocol's own
 * constants, so that a code, programme or role list is stated once.
 */
import { RECORD_REJECTION_CODES } from '../../errors.ts';
import {
  MAX_PERIOD_DAYS,
  MONITORING_SUMMARY_SCHEMA,
  type MonitoringSummary,
  MRA_ID_PATTERN,
  REASON_PATTERN,
} from '../../protocol/monitoring-summary.ts';
import { ADMIN_ID_PATTERN } from '../../protocol/names.ts';
import { PROGRAMMES, ROLES } from '../../protocol/record.ts';
import { compileValidator, type ValidationResult } from '../../validation.ts';
import { dayStart } from '../period.ts';

const DAY_MS = 86_400_000;
/** The largest integer JSON numbers hold exactly; the strict JSON reader refuses anything beyond. */
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
/** As records write their recordId: lower-case hexadecimal. */
export const UUID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
/** As records write issuedAt: UTC with `Z`. */
const UTC_TIMESTAMP_PATTERN = '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?Z$';
/** A benefit of the MRA as both configured it; the protocol names no pattern, this gateway takes the mraId's. */
export const BENEFIT_ID_PATTERN = MRA_ID_PATTERN;
/** At most as many benefits as an MRA's configuration holds. */
export const MAX_BENEFITS = 100;
/** A reason map holds at most this many reasons: a bound on what a partner can make the receiver store. */
const MAX_REASONS = 100;

const count = { type: 'integer', minimum: 0, maximum: MAX_SAFE } as const;

/** An exact object whose members are all optional counts. */
function counts(keys: readonly string[]): object {
  return {
    type: 'object',
    additionalProperties: false,
    properties: Object.fromEntries(keys.map((k) => [k, count])),
  };
}

/** A map from reasons (`^[a-z][a-z0-9-]{0,39}$`) to counts. */
const reasons = {
  type: 'object',
  maxProperties: MAX_REASONS,
  propertyNames: { pattern: REASON_PATTERN },
  additionalProperties: count,
} as const;

const sizeSplit = counts(['sme', 'large', 'unknown']);
const percentiles = counts(['p50', 'p95', 'p99']);

const figures = {
  type: 'object',
  additionalProperties: false,
  properties: {
    records: {
      type: 'object',
      additionalProperties: false,
      properties: {
        accepted: count,
        duplicate: count,
        superseded: count,
        rejected: counts(RECORD_REJECTION_CODES),
      },
    },
    operators: {
      type: 'object',
      additionalProperties: false,
      properties: {
        recognised: count,
        byProgramme: counts(PROGRAMMES),
        byRole: counts(ROLES),
        bySize: counts(['micro', 'small', 'medium', 'large', 'unknown']),
      },
    },
    lookups: {
      type: 'object',
      additionalProperties: false,
      properties: { total: count, recognised: count, notRecognised: reasons },
    },
    benefits: {
      type: 'array',
      maxItems: MAX_BENEFITS,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['benefitId'],
        properties: {
          benefitId: { type: 'string', pattern: BENEFIT_ID_PATTERN },
          applied: sizeSplit,
          refused: sizeSplit,
          refusalReasons: reasons,
        },
      },
    },
    latency: {
      type: 'object',
      additionalProperties: false,
      properties: { toReceiptMs: percentiles, toBorderMs: percentiles },
    },
  },
} as const;

const date = { type: 'string', format: 'date', pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' } as const;

export const SUMMARY_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: [
    'schema',
    'summaryId',
    'reporter',
    'subject',
    'mraId',
    'period',
    'issuedAt',
    'revision',
    'figures',
  ],
  properties: {
    schema: { const: MONITORING_SUMMARY_SCHEMA },
    summaryId: { type: 'string', pattern: UUID_PATTERN },
    reporter: { type: 'string', pattern: ADMIN_ID_PATTERN },
    subject: { type: 'string', pattern: ADMIN_ID_PATTERN },
    mraId: { type: 'string', pattern: MRA_ID_PATTERN },
    period: {
      type: 'object',
      additionalProperties: false,
      required: ['from', 'to'],
      properties: { from: date, to: date },
    },
    issuedAt: { type: 'string', format: 'date-time', pattern: UTC_TIMESTAMP_PATTERN },
    revision: { type: 'integer', minimum: 1, maximum: MAX_SAFE },
    figures,
  },
} as const;

const validateShape = compileValidator(SUMMARY_SCHEMA);

/**
 * Checks a parsed payload: the schema, then the rules across members (the period, one entry per benefit).
 * Errors name the member, as the record schema's do.
 */
export function checkSummary(value: unknown): ValidationResult {
  const shape = validateShape(value);
  if (!shape.ok) return shape;
  const summary = value as MonitoringSummary;
  const errors = periodErrors(summary);
  const seen = new Set<string>();
  for (const [i, b] of (summary.figures.benefits ?? []).entries()) {
    if (seen.has(b.benefitId)) errors.push(`/figures/benefits/${i}/benefitId: ${b.benefitId} is repeated`);
    seen.add(b.benefitId);
  }
  return errors.length === 0 ? { ok: true } : { ok: false, errors };
}

/** from ≤ to, both days included, at most MAX_PERIOD_DAYS, `to` before the UTC date of issuedAt. */
function periodErrors(summary: MonitoringSummary): string[] {
  const { from, to } = summary.period;
  if (from > to) return ['/period: from is after to'];
  const days = (dayStart(to).getTime() - dayStart(from).getTime()) / DAY_MS + 1;
  if (days > MAX_PERIOD_DAYS) return [`/period: covers ${days} days, at most ${MAX_PERIOD_DAYS}`];
  if (to >= summary.issuedAt.slice(0, 10)) return ['/period: to is not before the UTC date of issuedAt'];
  return [];
}
