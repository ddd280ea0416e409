/**
 * Strict JSON Schema validation for signed payloads and configuration. Unlike fastify's request validator,
 * this instance never strips unknown members, coerces types or fills defaults: what is validated is exactly
 * what was signed (docs/threats.md 38).
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

// ajv-formats ships CommonJS with a default export; under NodeNext the callable sits on `.default`.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

const ajv = new Ajv({
  strict: true,
  allErrors: false,
  coerceTypes: false,
  removeAdditional: false,
  useDefaults: false,
  allowUnionTypes: true,
});
addFormats(ajv, ['uuid']);
addDateFormats(ajv);

/**
 * docs/protocol.md: every date and timestamp lies in the years 1900 to 9999. One rule for every schema and every
 * route, so that no value a schema accepts can fail later in PostgreSQL (which has no year 0), in Date (which
 * rolls 30 February over into March) or in toISOString (which writes years past 9999 with six digits).
 */
export const MIN_YEAR = 1900;
export const MAX_YEAR = 9999;

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
// RFC 3339 section 5.6, without leap seconds: neither Date nor the rest of the exchange can hold second 60.
const DATE_TIME = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(?:Z|[+-](\d{2}):(\d{2}))$/;

/** The widest offset in use is +14:00; PostgreSQL refuses offsets from 16 hours. */
const MAX_OFFSET_HOURS = 14;

/** A calendar day `YYYY-MM-DD` that exists, in the years 1900 to 9999. */
export function isProtocolDate(text: string): boolean {
  const m = DATE.exec(text);
  if (m === null) return false;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (year < MIN_YEAR || year > MAX_YEAR || month < 1 || month > 12 || day < 1) return false;
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * An RFC 3339 timestamp whose day exists and whose fields are in range, read in the years 1900 to 9999 both
 * as written and as the UTC instant it names (an offset may move 9999-12-31 into year 10000).
 */
export function isProtocolDateTime(text: string): boolean {
  const m = DATE_TIME.exec(text);
  if (m === null || !isProtocolDate(m[1]!)) return false;
  if (Number(m[2]) > 23 || Number(m[3]) > 59 || Number(m[4]) > 59) return false;
  if (m[5] !== undefined && (Number(m[5]) > MAX_OFFSET_HOURS || Number(m[6]) > 59)) return false;
  const year = new Date(text).getUTCFullYear();
  return year >= MIN_YEAR && year <= MAX_YEAR;
}

/**
 * Replaces ajv-formats' `date` and `date-time` (which admit year 0000, second 60 and any year) in an ajv
 * instance: this module's and the HTTP apps' request validators alike.
 */
export function addDateFormats(instance: Pick<Ajv, 'addFormat'>): void {
  instance.addFormat('date', { type: 'string', validate: isProtocolDate });
  instance.addFormat('date-time', { type: 'string', validate: isProtocolDateTime });
}

const SCHEMA_DIR = new URL('../schemas/', import.meta.url);

export type SchemaName = 'config' | 'aeo-status-1' | 'aeo-receipt-1' | 'mra-request-1' | 'decision';

const compiled = new Map<SchemaName, ValidateFunction>();

function validatorFor(name: SchemaName): ValidateFunction {
  let validate = compiled.get(name);
  if (validate === undefined) {
    const schema = JSON.parse(readFileSync(new URL(`${name}.schema.json`, SCHEMA_DIR), 'utf8')) as object;
    validate = ajv.compile(schema);
    compiled.set(name, validate);
  }
  return validate;
}

export type ValidationResult = { ok: true } | { ok: false; errors: string[] };

/** Validates `value` against a schema of schemas/; errors name the member that failed. */
export function validateAgainst(name: SchemaName, value: unknown): ValidationResult {
  const validate = validatorFor(name);
  if (validate(value)) return { ok: true };
  return { ok: false, errors: (validate.errors ?? []).map(describeError) };
}

/**
 * Compiles a schema that a module builds in code from the protocol's own constants (so that a code list is
 * stated once), on this same strict instance and date rule. Compile once, at module load.
 */
export function compileValidator(schema: object): (value: unknown) => ValidationResult {
  const validate = ajv.compile(schema);
  return (value) =>
    validate(value) ? { ok: true } : { ok: false, errors: (validate.errors ?? []).map(describeError) };
}

function describeError(error: ErrorObject): string {
  const where = error.instancePath === '' ? '(root)' : error.instancePath;
  if (error.keyword === 'additionalProperties') {
    const extra = (error.params as { additionalProperty?: string }).additionalProperty;
    return `${where}: unknown member "${String(extra)}"`;
  }
  if (error.keyword === 'enum') {
    const allowed = (error.params as { allowedValues?: unknown[] }).allowedValues ?? [];
    return `${where}: must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  return `${where}: ${error.message ?? error.keyword}`;
}
