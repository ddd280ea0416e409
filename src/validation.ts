/**
 * Strict JSON Schema validation for signed payloads and configuration. Unlike fastify's request validator,
 * this instance never strips unknown members, coerces types or fills defaults: what is validated is exactly
 * what was signed (THREATS.md 38).
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
addFormats(ajv, ['date', 'date-time', 'uuid']);

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
