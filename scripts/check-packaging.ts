/**
 * `npm run check:packaging` (run by .ci/run): the Dockerfile and docker-compose.yml, checked without a Docker
 * engine (none is needed, none is assumed).
 *
 * - Compose: a real compose tool's `config -q` must accept docker-compose.yml (`docker compose` when the plugin
 *   is there, else `docker-compose`; Debian's `docker-compose` package is installed with apt-get when neither
 *   is and this runs as root). Then the resolved configuration (`config`, YAML) must say what the docs promise:
 *   Redis with noeviction and an append-only file, data and certificates on named volumes, gateways as a
 *   non-root user with a health check, waiting for healthy databases, every port published on 127.0.0.1 only.
 * - Dockerfile: `hadolint` when it is on PATH, else the dockerfile-utils validator (every rule as a warning at
 *   least); any finding fails. Then our own rules: the exact Node version package.json pins, a non-root USER,
 *   a HEALTHCHECK on /health/live, production dependencies only, the CLI as entry point.
 *
 * Prints one line per check and exits 1 when any fails.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ValidationSeverity, validate } from 'dockerfile-utils';
import { parse } from 'yaml';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
let failures = 0;

function check(ok: boolean, what: string, why = ''): void {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${!ok && why ? `: ${why}` : ''}`);
  if (!ok) failures += 1;
}

function run(cmd: string, args: readonly string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', timeout: 300_000 });
  return { code: r.error ? 127 : (r.status ?? 1), stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

// --- compose -------------------------------------------------------------------------------------------------

function composeTool(): string[] | undefined {
  if (run('docker', ['compose', 'version']).code === 0) return ['docker', 'compose'];
  if (run('docker-compose', ['version']).code === 0) return ['docker-compose'];
  if (process.getuid?.() === 0 && run('apt-get', ['--version']).code === 0) {
    console.log(
      'neither `docker compose` nor `docker-compose` found: installing Debian package docker-compose',
    );
    run('apt-get', ['update', '-qq']);
    const r = spawnSync('apt-get', ['install', '-y', '-qq', 'docker-compose'], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      timeout: 600_000,
    });
    if (r.status === 0 && run('docker-compose', ['version']).code === 0) return ['docker-compose'];
  }
  return undefined;
}

type Service = {
  build?: unknown;
  image?: string;
  user?: string;
  command?: string[] | string;
  healthcheck?: { test?: unknown; disable?: boolean };
  ports?: (string | { host_ip?: string; published?: string | number; target?: number })[];
  volumes?: (string | { type?: string; source?: string; target?: string })[];
  depends_on?: Record<string, { condition?: string }> | string[];
};
type Compose = { services?: Record<string, Service>; volumes?: Record<string, unknown> };

export function composeFindings(config: Compose): { ok: boolean; what: string; why?: string }[] {
  const out: { ok: boolean; what: string; why?: string }[] = [];
  const services = config.services ?? {};
  const named = new Set(Object.keys(config.volumes ?? {}));
  const redis = services.redis;
  const cmd = Array.isArray(redis?.command) ? redis.command.join(' ') : String(redis?.command ?? '');
  out.push({
    ok: /--maxmemory-policy\s+noeviction\b/.test(cmd) && /--appendonly\s+yes\b/.test(cmd),
    what: 'redis runs with --maxmemory-policy noeviction --appendonly yes',
    why: `command is "${cmd}"`,
  });
  const gateways = Object.entries(services).filter(([name, s]) => s.build !== undefined && name !== 'pki');
  out.push({
    ok: gateways.length >= 2,
    what: 'two or more gateways built from the Dockerfile',
    why: `${gateways.length}`,
  });
  for (const [name, s] of gateways) {
    out.push({
      ok: s.user !== undefined && !/^(root|0)(:|$)/.test(s.user),
      what: `${name} runs as a non-root user`,
      why: `user ${s.user ?? '(unset)'}`,
    });
    const deps = Array.isArray(s.depends_on) ? {} : (s.depends_on ?? {});
    out.push({
      ok: ['postgres', 'redis'].every((d) => deps[d]?.condition === 'service_healthy'),
      what: `${name} waits for healthy postgres and redis`,
    });
  }
  for (const [name, s] of Object.entries(services)) {
    if (name !== 'pki') {
      out.push({
        ok: s.healthcheck?.test !== undefined && s.healthcheck.disable !== true,
        what: `${name} has a health check`,
      });
    }
    for (const p of s.ports ?? []) {
      const hostIp =
        typeof p === 'string' ? (/^(\d+\.\d+\.\d+\.\d+|\[[^\]]+\]):/.exec(p)?.[1] ?? '') : p.host_ip;
      out.push({
        ok: hostIp === '127.0.0.1',
        what: `${name} publishes ${typeof p === 'string' ? p : `${p.published}->${p.target}`} on 127.0.0.1 only`,
        why: `host address ${hostIp || '(all)'}`,
      });
    }
    for (const v of s.volumes ?? []) {
      const parts = typeof v === 'string' ? v.split(':') : [];
      // "target" alone is an anonymous volume; "source:target[:mode]" names its source.
      const [source, target] =
        typeof v !== 'string'
          ? [v.type === 'volume' ? v.source : `./${v.source}`, v.target]
          : parts.length === 1
            ? [undefined, parts[0]]
            : [parts[0], parts[1]];
      const isNamed = source !== undefined && !source.startsWith('/') && !source.startsWith('.');
      if (isNamed || source === undefined || source === target) {
        out.push({
          ok: source !== undefined && source !== target && named.has(source),
          what: `${name}: ${target} is on a named volume`,
          why: `source ${source ?? '(anonymous)'}`,
        });
      }
    }
  }
  // Targets mounted from a named volume.
  const mounts = (svc: string) =>
    (services[svc]?.volumes ?? []).flatMap((v) => {
      const [source, target] = typeof v === 'string' ? v.split(':') : [v.source, v.target];
      return typeof v === 'string' && target === undefined ? [] : named.has(source ?? '') ? [target] : [];
    });
  out.push({
    ok: mounts('postgres').includes('/var/lib/postgresql/data'),
    what: 'postgres data on a named volume',
  });
  out.push({ ok: mounts('redis').includes('/data'), what: 'redis data on a named volume' });
  return out;
}

function checkCompose(): void {
  console.log('\n-- docker-compose.yml');
  const tool = composeTool();
  check(
    tool !== undefined,
    'a compose tool',
    'neither `docker compose` nor `docker-compose`, and none installed',
  );
  if (!tool) return;
  const [cmd, ...pre] = tool as [string, ...string[]];
  console.log(`compose tool: ${tool.join(' ')} (${run(cmd, [...pre, 'version']).stdout.split('\n')[0]})`);
  const quiet = run(cmd, [...pre, '-f', 'docker-compose.yml', 'config', '-q']);
  check(quiet.code === 0, `${tool.join(' ')} config -q`, quiet.stderr.trim());
  const full = run(cmd, [...pre, '-f', 'docker-compose.yml', 'config']);
  if (full.code !== 0) return;
  for (const f of composeFindings(parse(full.stdout) as Compose)) check(f.ok, f.what, f.why);
}

// --- Dockerfile ------------------------------------------------------------------------------------------------

export function dockerfileFindings(
  text: string,
  nodeVersion: string,
): { ok: boolean; what: string; why?: string }[] {
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  const instr = lines
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const [word = '', ...rest] = l.split(/\s+/);
      return { word: word.toUpperCase(), args: rest.join(' ') };
    });
  const froms = instr.filter((i) => i.word === 'FROM');
  const lastFrom = instr.map((i) => i.word).lastIndexOf('FROM');
  const final = instr.slice(lastFrom);
  const users = final.filter((i) => i.word === 'USER').map((i) => i.args);
  const lastUser = users.at(-1);
  const health = final.filter((i) => i.word === 'HEALTHCHECK').map((i) => i.args);
  const exposed = final.filter((i) => i.word === 'EXPOSE').flatMap((i) => i.args.split(/\s+/));
  const entry = final.find((i) => i.word === 'ENTRYPOINT')?.args ?? '';
  return [
    {
      ok: froms.length > 0 && froms.every((f) => f.args.startsWith(`node:${nodeVersion}-`)),
      what: `every FROM is node:${nodeVersion}-… (package.json pins node ${nodeVersion})`,
      why: froms.map((f) => f.args).join('; '),
    },
    {
      ok: lastUser !== undefined && !/^(root|0)(:|$)/.test(lastUser),
      what: 'the final stage runs as a non-root USER',
      why: `USER ${lastUser ?? '(none)'}`,
    },
    {
      // `healthcheck` (src/cli/healthcheck.ts) fetches /health/live where the configuration puts the API listener.
      ok: health.length === 1 && /\/health\/live|src\/cli\/healthcheck\.ts/.test(health[0]!),
      what: 'a HEALTHCHECK on /health/live',
      why: health.join('; ') || '(none)',
    },
    {
      ok: instr.some((i) => i.word === 'RUN' && /npm ci\b.*--omit=dev/.test(i.args)),
      what: 'production dependencies only (npm ci --omit=dev)',
    },
    {
      ok: ['8443', '8080'].every((p) => exposed.includes(p)),
      what: 'EXPOSE 8443 and 8080',
      why: exposed.join(' '),
    },
    { ok: entry.includes('src/cli/main.ts'), what: 'ENTRYPOINT is the CLI', why: entry },
  ];
}

function checkDockerfile(): void {
  console.log('\n-- Dockerfile');
  const text = readFileSync(join(root, 'Dockerfile'), 'utf8');
  if (run('hadolint', ['--version']).code === 0) {
    console.log('linter: hadolint');
    const r = run('hadolint', ['--failure-threshold', 'warning', 'Dockerfile']);
    if (r.stdout.trim()) console.log(r.stdout.trim());
    check(r.code === 0, 'hadolint: no error or warning', r.stderr.trim());
  } else {
    console.log('linter: dockerfile-utils (hadolint is not on PATH)');
    const w = ValidationSeverity.WARNING;
    const found = validate(text, {
      deprecatedMaintainer: w,
      directiveCasing: w,
      emptyContinuationLine: w,
      instructionCasing: w,
      instructionCmdMultiple: w,
      instructionEntrypointMultiple: w,
      instructionHealthcheckMultiple: w,
      instructionJSONInSingleQuotes: w,
      instructionWorkdirRelative: w,
    });
    for (const d of found) console.log(`  Dockerfile:${d.range.start.line + 1}: ${d.message}`);
    check(found.length === 0, 'dockerfile-utils: no error or warning', `${found.length} found`);
  }
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    devDependencies?: Record<string, string>;
  };
  const nodeVersion = pkg.devDependencies?.node ?? '(unpinned)';
  for (const f of dockerfileFindings(text, nodeVersion)) check(f.ok, f.what, f.why);
  const ignore = existsSync(join(root, '.dockerignore'))
    ? readFileSync(join(root, '.dockerignore'), 'utf8')
    : '';
  const ignoreLines = ignore.split('\n').map((l) => l.trim());
  check(
    ignoreLines.includes('*') || ignoreLines.includes('**') || ignoreLines.includes('node_modules'),
    '.dockerignore keeps node_modules and the rest of the tree out of the build context',
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  checkDockerfile();
  checkCompose();
  console.log(failures === 0 ? '\npackaging: OK' : `\npackaging: ${failures} check(s) failed`);
  process.exit(failures === 0 ? 0 : 1);
}
