/**
 * Strict JSON Schema validation for signed payloads and configuration. Unlike fastify's default request
 * validator, this instance never strips unknown members, coerces types or fills defaults: what is validated
 * is exactly what was signed (docs/threats.md 38).
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';

// ajv-formats ships CommonJS with a default export; under NodeNext the callable sits on `.default`.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

/**
 * The ajv options that leave an input as it was given: no member stripped, no type coerced, no default filled
 * in (docs/threats.md 38). This validator and fastify's request validator (http/base-app.ts) both use them.
 */
export const INPUT_AS_GIVEN = { removeAdditional: false, coerceTypes: false, useDefaults: false } as const;

/**
 * Two instances of one configuration. Untrusted input is validated with the first, which stops at the first
 * error: with every error, one large body such as `{"records":[1,1,…]}` would build millions of them. Only a
 * failed input no larger than DESCRIBE_ALL_ERRORS_MAX_BYTES is validated again with the second, to name every
 * member at fault (reported bounded, see describeErrors). The configuration file, trusted and small, is
 * validated with the second directly.
 */
function strictAjv(allErrors: boolean): Ajv {
  const instance = new Ajv({ strict: true, allErrors, ...INPUT_AS_GIVEN, allowUnionTypes: true });
  addFormats(instance, ['uuid']);
  addDateFormats(instance);
  return instance;
}
const ajv = strictAjv(false);
const ajvAllErrors = strictAjv(true);

/** The largest input (as JSON text, about) whose schema errors are all described; above it, only the first. */
export const DESCRIBE_ALL_ERRORS_MAX_BYTES = 64 * 1024;

/** What a refusal of a larger input says after its first error. */
const FIRST_ERROR_ONLY = 'firstErrorOnly';

/**
 * Whether `value`, written as JSON, is about `limit` bytes or less. Walks at most about `limit` members, so
 * it costs little whatever the size of the value.
 */
export function isSmallInput(value: unknown, limit = DESCRIBE_ALL_ERRORS_MAX_BYTES): boolean {
  let size = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') size += v.length + 2;
    else if (Array.isArray(v)) {
      size += v.length + 2;
      if (size > limit) return false;
      for (const item of v) stack.push(item);
    } else if (typeof v === 'object' && v !== null) {
      size += 2;
      for (const key in v) {
        size += key.length + 4;
        if (size > limit) return false;
        stack.push((v as Record<string, unknown>)[key]);
      }
    } else size += String(v).length;
    if (size > limit) return false;
  }
  return true;
}

/** A validate function as ajv and fastify's route validators have it. */
export type SchemaValidate = ((value: unknown) => boolean) & { errors?: SchemaError[] | null };

/**
 * One validator from two of the same schema: `first` (stops at the first error) decides; when it refuses a
 * small input, `all` (every error, compiled on first need) describes it; a large input is refused with its
 * first error and a note that only the first is reported. Used by validateAgainst and by both apps' route
 * validators (http/openapi/compilers.ts).
 */
export function describingValidator(first: SchemaValidate, all: () => SchemaValidate): SchemaValidate {
  const validate: SchemaValidate = (value) => {
    if (first(value)) {
      validate.errors = null;
      return true;
    }
    if (isSmallInput(value)) {
      const every = all();
      if (!every(value)) {
        validate.errors = every.errors ?? null;
        return false;
      }
    }
    const firstOnly: SchemaError = {
      keyword: FIRST_ERROR_ONLY,
      instancePath: '',
      message: `only the first error is reported for inputs over ${DESCRIBE_ALL_ERRORS_MAX_BYTES / 1024} KiB`,
      params: {},
    };
    validate.errors = [...(first.errors ?? []).slice(0, 1), firstOnly];
    return false;
  };
  return validate;
}

function twoPass(schema: object): SchemaValidate {
  let every: SchemaValidate | undefined;
  return describingValidator(ajv.compile(schema), () => {
    every ??= ajvAllErrors.compile(schema);
    return every;
  });
}

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

const compiled = new Map<SchemaName, SchemaValidate>();
const documents = new Map<SchemaName, object>();

/** The schema of schemas/ that `validateAgainst(name)` checks with, as read once: also what the OpenAPI shows. */
export function schemaDocument(name: SchemaName): object {
  let schema = documents.get(name);
  if (schema === undefined) {
    schema = JSON.parse(readFileSync(new URL(`${name}.schema.json`, SCHEMA_DIR), 'utf8')) as object;
    documents.set(name, schema);
  }
  return schema;
}

function validatorFor(name: SchemaName): SchemaValidate {
  let validate = compiled.get(name);
  if (validate === undefined) {
    // The configuration is the operator's own file: every error, at once.
    validate = name === 'config' ? ajvAllErrors.compile(schemaDocument(name)) : twoPass(schemaDocument(name));
    compiled.set(name, validate);
  }
  return validate;
}

export type ValidationResult = { ok: true } | { ok: false; errors: string[] };

/** Validates `value` against a schema of schemas/; errors name the member that failed. */
export function validateAgainst(name: SchemaName, value: unknown): ValidationResult {
  const validate = validatorFor(name);
  if (validate(value)) return { ok: true };
  return { ok: false, errors: describeErrors(validate.errors ?? []) };
}

/**
 * Compiles a schema that a module builds in code from the protocol's own constants (so that a code list is
 * stated once), on this same strict instance and date rule. Compile once, at module load.
 */
export function compileValidator(schema: object): (value: unknown) => ValidationResult {
  const validate = twoPass(schema);
  return (value) =>
    validate(value) ? { ok: true } : { ok: false, errors: describeErrors(validate.errors ?? []) };
}

/** What ajv reports of one error, as fastify hands it over too. */
export type SchemaError = Pick<ErrorObject, 'keyword' | 'instancePath' | 'message'> & { params: object };

/** How many schema errors a refusal lists; the rest are counted ("and 7 more"). */
export const MAX_REPORTED_ERRORS = 10;

/**
 * The errors of one validation, each with the JSON pointer of its member, without repeats, the first
 * MAX_REPORTED_ERRORS of them and then "and N more". `prefix` goes before each pointer (fastify's "body").
 */
export function describeErrors(errors: readonly SchemaError[], prefix = ''): string[] {
  const all = [...new Set(errors.map((e) => describeError(e, prefix)))];
  if (all.length <= MAX_REPORTED_ERRORS) return all;
  return [...all.slice(0, MAX_REPORTED_ERRORS), `and ${all.length - MAX_REPORTED_ERRORS} more`];
}

function describeError(error: SchemaError, prefix: string): string {
  if (error.keyword === FIRST_ERROR_ONLY) return error.message ?? FIRST_ERROR_ONLY;
  const where =
    error.instancePath === '' ? (prefix === '' ? '(root)' : prefix) : `${prefix}${error.instancePath}`;
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
