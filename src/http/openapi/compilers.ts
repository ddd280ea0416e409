/**
 * The schema compilers of both apps: fastify's own (ajv for requests, fast-json-stringify for answers), except
 * for a schema marked with `documented()`. Such a schema describes, for the OpenAPI documents, what a route
 * takes or answers while the route keeps checking and writing it itself: a body validated in the handler with
 * the strict validator of signed payloads (validation.ts), a streamed or form body, an answer written as JSON
 * bytes or by JSON.stringify. Marking it keeps the answers and error messages exactly what they were.
 */
import ValidatorSelector from '@fastify/ajv-compiler';
import SerializerSelector from '@fastify/fast-json-stringify-compiler';
import type { FastifyServerOptions } from 'fastify';
import { describingValidator, type SchemaValidate } from '../../validation.ts';

const DOCUMENTATION_ONLY = new WeakSet<object>();

/** Marks `schema` as documentation: fastify neither validates a request part nor writes an answer with it. */
export function documented<T extends object>(schema: T): T {
  DOCUMENTATION_ONLY.add(schema);
  return schema;
}

export function isDocumentationOnly(schema: unknown): boolean {
  return typeof schema === 'object' && schema !== null && DOCUMENTATION_ONLY.has(schema);
}

interface CompiledRoute {
  schema?: unknown;
}

type Validate = SchemaValidate;
type ValidatorBuilder = (route: CompiledRoute) => Validate;
type SerializerBuilder = (route: CompiledRoute) => (value: unknown) => string;

/** What the route had before any schema was added: nothing refused here, the handler decides. */
const acceptAll: Validate = () => true;
/** What fastify writes for a route without a response schema. */
const plainJson = (value: unknown): string => JSON.stringify(value);

type SchemaController = NonNullable<FastifyServerOptions['schemaController']>;
type CompilersFactory = NonNullable<SchemaController['compilersFactory']>;

/** The `schemaController` option of Fastify(): fastify's compilers, documentation-only schemas aside. */
export function schemaController(): SchemaController {
  const validators = ValidatorSelector();
  const serializers = SerializerSelector();
  // Requests are validated stopping at the first error, and described with every error only when small
  // (validation.ts describingValidator): a large body must not build an error per member.
  const buildValidator = (external: unknown, options: unknown): ValidatorBuilder => {
    const build = validators as unknown as (e: unknown, o: unknown) => ValidatorBuilder;
    const given = options as { customOptions?: object };
    const withAllErrors = (allErrors: boolean) => ({
      ...given,
      customOptions: { ...given.customOptions, allErrors },
    });
    const compileFirst = build(external, withAllErrors(false));
    const compileAll = build(external, withAllErrors(true));
    return (route) => {
      if (isDocumentationOnly(route.schema)) return acceptAll;
      let every: Validate | undefined;
      return describingValidator(compileFirst(route), () => {
        every ??= compileAll(route);
        return every;
      });
    };
  };
  const buildSerializer = (external: unknown, options: unknown): SerializerBuilder => {
    const compile = (serializers as unknown as (e: unknown, o: unknown) => SerializerBuilder)(
      external,
      options,
    );
    return (route) => (isDocumentationOnly(route.schema) ? plainJson : compile(route));
  };
  return {
    compilersFactory: {
      buildValidator: buildValidator as unknown as NonNullable<CompilersFactory['buildValidator']>,
      buildSerializer: buildSerializer as unknown as NonNullable<CompilersFactory['buildSerializer']>,
    },
  };
}
