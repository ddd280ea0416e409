/**
 * `npm run imports` (part of `npm run check`): every import in src/ points down the layers below, and the
 * infrastructure packages and the environment are reached through their one module each. Fails naming the
 * file and the import.
 *
 * The layers are the one statement of the import direction. A module is a folder under src/ or a file at its
 * root. A module may import any module of a lower layer, and a module of its own layer only where ALSO_ALLOWED
 * says so, with the reason. A module missing from the table is refused until it is placed in it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, normalize, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';

export const LAYERS: readonly (readonly string[])[] = [
  // 0. Shared by everything: the error type, the logger, schema validation, small runtime helpers, and the
  // metrics registry that flows count into (like the logger, it knows no flow).
  ['errors.ts', 'log.ts', 'validation.ts', 'pass-runner.ts', 'process-guard.ts', 'metrics'],
  // 1. The protocol's nouns (types and pure functions), and the cryptography that works on bytes alone.
  ['protocol', 'crypto'],
  // 2. The domain of an MRA: partners, scope, the recognition rule.
  ['mra'],
  // 3. The configuration, which builds the domain's partners and MRAs from the file.
  ['config'],
  // 4. Infrastructure configured by it: the stores and the queues.
  ['store', 'queue'],
  // 5. What flows share on top of infrastructure: the outbox relay, the HTTP client of partners' gateways, the
  // audit chain that every flow appends to in its own transaction.
  ['outbox-relay.ts', 'partner-client', 'audit'],
  // 6. The flows.
  ['inbound', 'lookup', 'notifications', 'publishing', 'register-import', 'delivery', 'partner-api'],
  // 6b. What reads the facts every flow left: monitoring (figures, reports, summaries, dashboard) and the
  // retention of personal data; the export and offline verification of one exchange's evidence.
  ['monitoring', 'retention', 'evidence'],
  // 6c. The conformance kit: acts as a partner against a gateway with the flows' signing and client code.
  ['conformance'],
  // 7. The transport.
  ['http'],
  // 8. The composition root (services and apps, not listening), the gateway that listens, then the command
  // line that starts it.
  ['compose.ts'],
  ['gateway.ts'],
  // A process per core: the primary that forks gateways and its workers, each a gateway.
  ['cluster'],
  ['cli'],
];

/** Arrows within one layer, each with why it is not a layering fault. */
export const ALSO_ALLOWED: readonly { from: string; to: string; why: string }[] = [
  {
    from: 'lookup',
    to: 'inbound',
    why: 'the read model consumes what a committed inbound batch changed (inbound/change.ts)',
  },
  {
    from: 'notifications',
    to: 'inbound',
    why: "webhook events are written in the inbound batch's transaction, from its verdicts",
  },
  { from: 'register-import', to: 'publishing', why: 'a register import is a stream of national decisions' },
  {
    from: 'pass-runner.ts',
    to: 'errors.ts',
    why: 'a scheduled run cut short by its stop is told apart by the one error type, not logged as a failure',
  },
];

/** Packages only one module may import: the infrastructure behind it stays replaceable in one place. */
export const PACKAGE_OWNERS: Readonly<Record<string, string>> = {
  jose: 'crypto',
  'node-forge': 'crypto',
  pg: 'store',
  '@electric-sql/pglite': 'store',
  bullmq: 'queue',
  ioredis: 'queue',
  'prom-client': 'metrics',
};

/** Only this module reads the environment. */
export const ENVIRONMENT_READER = 'config';

export interface Violation {
  file: string;
  line: number;
  message: string;
}

const SPECIFIER =
  /\bfrom\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm;
const ENVIRONMENT = /\bprocess\s*\.\s*env\b|\bprocess\s*\[\s*['"]env['"]\s*\]/g;

function layerOf(module: string): number {
  return LAYERS.findIndex((layer) => layer.includes(module));
}

function moduleOf(srcDir: string, file: string): string {
  return relative(srcDir, file).split(sep)[0]!;
}

function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

function lineAt(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (entry.isFile() && entry.name.endsWith('.ts')) out.push(path);
  }
  return out.sort();
}

function arrowFault(from: string, to: string): string | undefined {
  const a = layerOf(from);
  const b = layerOf(to);
  if (b === -1) return `${to} is not in the layer table of scripts/check-imports.ts`;
  if (b < a) return undefined;
  if (b === a && ALSO_ALLOWED.some((x) => x.from === from && x.to === to)) return undefined;
  return b === a
    ? `${from} may not import ${to}: same layer, and not listed in ALSO_ALLOWED`
    : `${from} may not import ${to}: it is in a higher layer`;
}

/** Every import in `srcDir` that breaks the rules above. */
export function checkImports(srcDir: string): Violation[] {
  const root = resolve(srcDir);
  const violations: Violation[] = [];
  for (const path of sourceFiles(root)) {
    const text = readFileSync(path, 'utf8');
    const file = relative(process.cwd(), path);
    const from = moduleOf(root, path);
    const report = (index: number, message: string) =>
      violations.push({ file, line: lineAt(text, index), message });
    if (layerOf(from) === -1) report(0, `${from} is not in the layer table of scripts/check-imports.ts`);

    for (const m of text.matchAll(SPECIFIER)) {
      const specifier = (m[1] ?? m[2] ?? m[3])!;
      if (specifier.startsWith('.')) {
        const target = normalize(join(path, '..', specifier));
        if (!target.startsWith(root + sep)) {
          report(m.index, `import ${specifier} leaves src/`);
          continue;
        }
        const to = moduleOf(root, target);
        if (to === from) continue;
        const fault = arrowFault(from, to);
        if (fault !== undefined) report(m.index, `import ${specifier}: ${fault}`);
      } else {
        const owner = PACKAGE_OWNERS[packageOf(specifier)];
        if (owner !== undefined && owner !== from) {
          report(m.index, `import ${specifier}: only src/${owner} may import ${packageOf(specifier)}`);
        }
      }
    }
    if (from !== ENVIRONMENT_READER) {
      for (const m of text.matchAll(ENVIRONMENT)) {
        report(m.index, `reads the environment: only src/${ENVIRONMENT_READER} may`);
      }
    }
  }
  return violations;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const dir = process.argv[2] ?? 'src';
  const violations = checkImports(dir);
  for (const v of violations) console.error(`${v.file}:${v.line}: ${v.message}`);
  if (violations.length > 0) {
    console.error(`${violations.length} import(s) break the layering (scripts/check-imports.ts)`);
    process.exit(1);
  }
  console.log(`imports: ${sourceFiles(resolve(dir)).length} files, every arrow points down`);
}
