/**
 * Every example in the documentation agrees with the OpenAPI documents (docs/openapi/*.json, which
 * openapi.test.ts holds equal to what the routes generate). The rule, for README.md and docs/*.md:
 *
 * - A fenced ```json block right after a marker `<!-- example: METHOD /path request -->` or
 *   `<!-- example: METHOD /path response STATUS -->` is validated against that operation's request body or
 *   answer (application/json, else application/problem+json for an error status).
 * - Every `curl` command in a fenced sh/bash block whose URL names a gateway route (`/api/v1/…`, `/mra/v1/…`,
 *   `/health/…`, `/dashboard…`, `/metrics`): the route must be in the document with that method, its path and
 *   query parameters validate against their schemas, and a JSON body validates against the request body
 *   schema: inline (`-d '…'`, `--data '…'`) or `--data @file` written by a here-document in the same block.
 *   Shell command substitutions in a here-document or a URL are replaced by the sample values of
 *   SUBSTITUTIONS (an unknown one fails the test: add it there); a value holding a shell variable is not
 *   checked, its route and the rest still are.
 *
 * README.md may have no marker yet; docs/*.md must give at least MIN_DOCS_EXAMPLES checked examples.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';

const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

/** Checked examples (bodies, answers, and curl routes with their parameters) that docs/*.md must hold. */
const MIN_DOCS_EXAMPLES = 10;

const SUBSTITUTIONS: Record<string, string> = {
  "$(node -p 'crypto.randomUUID()')": '3b241101-e2bb-4255-8caf-4136c566a962',
  '$(node -p "crypto.randomUUID()")': '3b241101-e2bb-4255-8caf-4136c566a962',
  '$(uuidgen)': '3b241101-e2bb-4255-8caf-4136c566a962',
  '$(date -u +%Y-%m-%dT%H:%M:%SZ)': '2026-01-15T10:00:00Z',
};

type Schema = Record<string, unknown>;
type Operation = {
  requestBody?: { content: Record<string, { schema: Schema }> };
  parameters?: { in: string; name: string; required?: boolean; schema: Schema }[];
  responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
};
type Document = { paths: Record<string, Record<string, Operation>>; components?: Schema };

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
const documents = {
  api: JSON.parse(read('docs/openapi/api.json')) as Document,
  partner: JSON.parse(read('docs/openapi/partner.json')) as Document,
};

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);

function validate(schema: Schema, document: Document, value: unknown): string | undefined {
  const check = ajv.compile({ ...schema, components: document.components });
  return check(value) ? undefined : ajv.errorsText(check.errors);
}

interface Found {
  method: string;
  path: string;
  document: Document;
  operation: Operation;
  params: Record<string, string>;
}

/** The documented operation a concrete path names. */
function findOperation(method: string, concrete: string): Found | undefined {
  const document = concrete.startsWith('/mra/v1/') ? documents.partner : documents.api;
  for (const path of Object.keys(document.paths)) {
    const names: string[] = [];
    const pattern = path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{([^}]+)\}/g, (_m, name: string) => {
      names.push(name);
      return '([^/]+)';
    });
    const match = new RegExp(`^${pattern.replace(/\\\{|\\\}/g, '')}$`).exec(concrete);
    const operation = document.paths[path]?.[method.toLowerCase()];
    if (match === null || operation === undefined) continue;
    const params = Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(match[i + 1]!)]));
    return { method, path, document, operation, params };
  }
  return undefined;
}

function substitute(text: string, where: string): string {
  let out = text;
  for (const [from, to] of Object.entries(SUBSTITUTIONS)) out = out.replaceAll(from, to);
  const unknown = /\$\([^)]*\)/.exec(out);
  if (unknown !== null)
    throw new Error(`${where}: no sample value for ${unknown[0]}; add it to SUBSTITUTIONS`);
  return out;
}

interface Example {
  where: string;
  /** What is wrong with it, or undefined when it validates. */
  fault: string | undefined;
}

function fencedBlocks(text: string): { lang: string; body: string; line: number; before: string }[] {
  const blocks: { lang: string; body: string; line: number; before: string }[] = [];
  const re = /^```([a-z]*)\n([\s\S]*?)^```/gm;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const line = text.slice(0, m.index).split('\n').length;
    blocks.push({ lang: m[1]!, body: m[2]!, line, before: text.slice(0, m.index) });
  }
  return blocks;
}

const MARKER = /<!--\s*example:\s*([A-Z]+)\s+(\S+)\s+(request|response)(?:\s+(\d{3}))?\s*-->\s*$/;

function markedExample(
  file: string,
  block: { body: string; line: number; before: string },
): Example | undefined {
  const marker = MARKER.exec(block.before.trimEnd());
  if (marker === null) return undefined;
  const [, method, path, kind, status] = marker as unknown as [string, string, string, string, string?];
  const where = `${file}:${block.line} ${method} ${path} ${kind}${status ? ` ${status}` : ''}`;
  const found = findOperation(method, path);
  if (found === undefined) return { where, fault: 'no such operation in the OpenAPI documents' };
  let value: unknown;
  try {
    value = JSON.parse(block.body);
  } catch (error) {
    return { where, fault: `not JSON: ${(error as Error).message}` };
  }
  const { operation, document } = found;
  const schema =
    kind === 'request'
      ? operation.requestBody?.content['application/json']?.schema
      : (
          operation.responses[status ?? '200']?.content?.['application/json'] ??
          operation.responses[status ?? '200']?.content?.['application/problem+json']
        )?.schema;
  if (schema === undefined) return { where, fault: `the operation documents no JSON ${kind}` };
  return { where, fault: validate(schema, document, value) };
}

const ROUTE =
  /(\/(?:api\/v1|mra\/v1)\/[^\s"'`]*|\/health\/(?:live|ready)|\/dashboard[^\s"'`]*|\/metrics)(?=[\s"'`;)]|$)/;

function curlExamples(file: string, block: { body: string; line: number }): Example[] {
  const examples: Example[] = [];
  const commands = shellCommands(block.body);
  for (const command of commands) {
    const at = command.indexOf('curl ');
    if (at === -1) continue;
    const curl = command.slice(at);
    const url = ROUTE.exec(curl.replace(/\$\{?[A-Z_]+\}?(?=\/)/g, ''));
    if (url === null) continue;
    const data = /(?:-d|--data|--data-raw|--data-binary)\s+(?:'([^']*)'|@(\S+))/.exec(curl);
    const method = /-X\s+([A-Z]+)/.exec(curl)?.[1] ?? (data ? 'POST' : 'GET');
    const [rawPath, query] = url[1]!.split('?') as [string, string?];
    const where = `${file}:${block.line} curl ${method} ${rawPath}`;
    const found = findOperation(method, rawPath);
    if (found === undefined) {
      examples.push({ where, fault: 'no such operation in the OpenAPI documents' });
      continue;
    }
    const faults: string[] = [];
    const { operation, document } = found;
    const parameter = (place: string, name: string) =>
      operation.parameters?.find((p) => p.in === place && p.name === name);
    for (const [name, value] of Object.entries(found.params)) {
      if (value.includes('$')) continue;
      const p = parameter('path', name);
      const fault = p ? validate(p.schema, document, value) : 'undocumented';
      if (fault) faults.push(`path {${name}}=${value}: ${fault}`);
    }
    for (const pair of (query ?? '').split('&').filter((x) => x !== '')) {
      const [name, raw = ''] = pair.split('=') as [string, string?];
      const p = parameter('query', name);
      if (p === undefined) {
        faults.push(`query ${name}: not a parameter of the route`);
        continue;
      }
      const value = substitute(decodeURIComponent(raw), where);
      if (value.includes('$')) continue;
      const fault = validate(p.schema, document, value);
      if (fault) faults.push(`query ${name}=${value}: ${fault}`);
    }
    const type = /content-type:\s*([a-z/+.-]+)/i.exec(curl)?.[1]?.toLowerCase() ?? 'application/json';
    if (data && type === 'application/json') {
      const text = data[1] ?? hereDocument(block.body, data[2]!, where);
      if (text === undefined) faults.push(`body @${data[2]}: not written by a here-document in the block`);
      else {
        const schema = operation.requestBody?.content['application/json']?.schema;
        try {
          const fault = schema ? validate(schema, document, JSON.parse(text)) : 'no JSON body documented';
          if (fault) faults.push(`body: ${fault}`);
        } catch (error) {
          faults.push(`body is not JSON: ${(error as Error).message}`);
        }
      }
    }
    const checked = data && type === 'application/json' ? `${where} with its body` : where;
    examples.push({ where: checked, fault: faults.length === 0 ? undefined : faults.join('; ') });
  }
  return examples;
}

/** The block's commands: continued lines joined, and a single-quoted string kept whole across lines. */
function shellCommands(block: string): string[] {
  const commands: string[] = [];
  let current = '';
  let hereEnd: string | undefined;
  for (const line of block.split('\n')) {
    // A here-document's lines are its text, not commands: skipped up to its delimiter.
    if (hereEnd !== undefined) {
      if (line === hereEnd) hereEnd = undefined;
      continue;
    }
    hereEnd = /<<-?\s*['"]?(\w+)['"]?\s*$/.exec(line)?.[1];
    if (hereEnd !== undefined) continue;
    current = current === '' ? line : `${current}\n${line}`;
    const quotes = (current.match(/'/g) ?? []).length;
    if (current.endsWith('\\')) current = `${current.slice(0, -1)} `;
    else if (quotes % 2 === 0) {
      commands.push(current);
      current = '';
    }
  }
  if (current !== '') commands.push(current);
  return commands;
}

/** The text a `cat > file <<EOF … EOF` of the block writes (substituted unless the delimiter is quoted). */
function hereDocument(block: string, file: string, where: string): string | undefined {
  const escaped = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`cat\\s*>\\s*${escaped}\\s*<<-?\\s*(['"]?)(\\w+)\\1\\n([\\s\\S]*?)\\n\\2\\n`).exec(
    block,
  );
  if (m === null) return undefined;
  return m[1] === '' ? substitute(m[3]!, where) : m[3]!;
}

function examplesOf(file: string): Example[] {
  const text = read(file);
  const out: Example[] = [];
  for (const block of fencedBlocks(text)) {
    if (block.lang === 'json') {
      const marked = markedExample(file, block);
      if (marked) out.push(marked);
    } else if (['sh', 'bash', 'shell', 'console'].includes(block.lang)) {
      out.push(...curlExamples(file, block));
    }
  }
  return out;
}

describe('the examples in the documentation', () => {
  const docs = readdirSync(new URL('docs/', root))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`);

  it(`validate against the OpenAPI documents (docs/*.md: at least ${MIN_DOCS_EXAMPLES})`, () => {
    const fromDocs = docs.flatMap(examplesOf);
    const fromReadme = existsSync(new URL('README.md', root)) ? examplesOf('README.md') : [];
    const all = [...fromDocs, ...fromReadme];
    const faults = all.filter((e) => e.fault !== undefined).map((e) => `${e.where}: ${e.fault}`);
    const bodies = all.filter((e) => / with its body$| (request|response)( \d+)?$/.test(e.where)).length;
    console.log(
      `openapi examples: ${all.length} checked, ${bodies} of them bodies or answers ` +
        `(${fromDocs.length} in docs/*.md, ${fromReadme.length} in README.md)`,
    );
    for (const e of all) console.log(`  ${e.where}`);
    expect(faults).toEqual([]);
    expect(fromDocs.length).toBeGreaterThanOrEqual(MIN_DOCS_EXAMPLES);
  });

  it('a wrong example is caught', () => {
    const found = findOperation('POST', '/api/v1/operators/lookup');
    expect(found).toBeDefined();
    const schema = found!.operation.requestBody!.content['application/json']!.schema;
    expect(validate(schema, found!.document, { items: [{ issuer: 'cl', aeoId: 'X' }] })).toBeDefined();
    expect(findOperation('GET', '/api/v1/no-such-route')).toBeUndefined();
  });
});
