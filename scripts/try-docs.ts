/**
 * `npm run docs:try [-- file.md …]` (run by .ci/run): the shell blocks of README.md and of every guide in
 * docs/ that shows one (DEFAULT_DOCS), run as written, in order, as a new user would on a fresh clone. Fails on
 * the first command block that exits non-zero.
 *
 * What runs: every fenced block opened with ```sh or ```bash, unless the line before it (blank lines aside) is
 * `<!-- no-try: reason -->`; the reason is printed. The line `<!-- try-with: demo -->` starts the demo in the
 * background where it stands, before the next block (`npm run demo -- --keep-running`, ready once
 * demo/tokens.json and demo/urls.json are written); it is stopped (Ctrl-C, SIGINT) after the last block. Put
 * it after any block that runs the demo itself (`npm run demo` empties demo/data, which a running demo uses).
 *
 * Where: each document in its own fresh copy of the working tree in a temporary folder (the files git would
 * check out, uncommitted changes included), with node_modules hard-linked (copied when that is not possible),
 * so that `npm ci` in a document works as written and nothing it does touches this tree.
 *
 * How: each block by `bash -euo pipefail` from the copy's root. Variables a block exports are seen by the
 * blocks after it in the same document; a `cd` is not. Bounds: 10 minutes a block, 45 minutes in all.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const DEFAULT_DOCS = [
  'README.md',
  'docs/running.md',
  'docs/partner.md',
  'docs/border.md',
  'docs/monitoring.md',
  'docs/conformance.md',
];
const BLOCK_TIMEOUT_MS = 10 * 60_000;
const TOTAL_TIMEOUT_MS = 45 * 60_000;
const DEMO_READY_TIMEOUT_MS = 5 * 60_000;

export interface ShellBlock {
  /** 1-based line of the opening fence. */
  line: number;
  code: string;
  /** Set when the block is marked `<!-- no-try: reason -->`: the reason. */
  skip?: string;
}

/** The ```sh / ```bash blocks of a Markdown text, in order, each with its skip reason when marked. */
export function extractBlocks(markdown: string): ShellBlock[] {
  const lines = markdown.split(/\r?\n/);
  const blocks: ShellBlock[] = [];
  let i = 0;
  while (i < lines.length) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)/.exec(lines[i]!);
    if (!open) {
      i += 1;
      continue;
    }
    const [, indent = '', fence = '```', lang = ''] = open;
    const start = i;
    const body: string[] = [];
    i += 1;
    while (i < lines.length && !new RegExp(`^\\s*${fence[0]}{${fence.length},}\\s*$`).test(lines[i]!)) {
      body.push(lines[i]!.startsWith(indent) ? lines[i]!.slice(indent.length) : lines[i]!);
      i += 1;
    }
    i += 1; // the closing fence
    if (lang !== 'sh' && lang !== 'bash') continue;
    let prev = start - 1;
    while (prev >= 0 && lines[prev]!.trim() === '') prev -= 1;
    const marker = prev >= 0 ? /^\s*<!--\s*no-try:(.*?)-->\s*$/.exec(lines[prev]!) : null;
    const reason = marker?.[1]?.trim();
    if (marker && !reason) throw new Error(`line ${prev + 1}: <!-- no-try: … --> needs a reason`);
    blocks.push({ line: start + 1, code: body.join('\n'), ...(reason ? { skip: reason } : {}) });
  }
  return blocks;
}

/** The 1-based line of `<!-- try-with: demo -->` (the demo starts there), or undefined when there is none. */
export function demoLine(markdown: string): number | undefined {
  const index = markdown.split(/\r?\n/).findIndex((l) => /^\s*<!--\s*try-with:\s*demo\s*-->\s*$/.test(l));
  return index < 0 ? undefined : index + 1;
}

// --- running ---------------------------------------------------------------------------------------------------

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));

/** A fresh copy of the tree as git would check it out (uncommitted changes included) with node_modules linked. */
function freshCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mra-docs-'));
  const listed = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (listed.status !== 0) throw new Error(`git ls-files: ${listed.stderr}`);
  for (const file of listed.stdout.split('\0').filter(Boolean)) {
    const from = join(root, file);
    if (!existsSync(from)) continue; // deleted in the working tree
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    copyFileSync(from, join(dir, file));
  }
  const linked = spawnSync('cp', ['-al', join(root, 'node_modules'), join(dir, 'node_modules')]);
  if (linked.status !== 0) {
    const copied = spawnSync('cp', ['-a', join(root, 'node_modules'), join(dir, 'node_modules')]);
    if (copied.status !== 0) symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  }
  return dir;
}

function runBlock(cwd: string, state: string, code: string, deadline: number): Promise<number> {
  const script = `[ -f "${state}" ] && . "${state}"\nset -euo pipefail\n${code}\nexport -p > "${state}"\n`;
  return new Promise((done) => {
    const child = spawn('bash', ['-c', script], {
      cwd,
      stdio: ['ignore', 'inherit', 'inherit'],
      detached: true,
    });
    const timer = setTimeout(
      () => {
        console.log(
          `   (over ${Math.round(Math.min(BLOCK_TIMEOUT_MS, deadline - Date.now()) / 1000)} s: stopped)`,
        );
        killGroup(child, 'SIGKILL');
      },
      Math.max(1_000, Math.min(BLOCK_TIMEOUT_MS, deadline - Date.now())),
    );
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      killGroup(child, 'SIGTERM'); // anything the block left in the background
      done(code ?? (signal ? 128 : 1));
    });
  });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

async function startDemo(cwd: string): Promise<ChildProcess> {
  console.log(
    '   background: npm run demo -- --keep-running (until demo/tokens.json and demo/urls.json exist)',
  );
  const demo = spawn('npm', ['run', 'demo', '--', '--keep-running'], {
    cwd,
    stdio: ['ignore', 'inherit', 'inherit'],
    detached: true,
  });
  const until = Date.now() + DEMO_READY_TIMEOUT_MS;
  while (!(existsSync(join(cwd, 'demo/tokens.json')) && existsSync(join(cwd, 'demo/urls.json')))) {
    if (demo.exitCode !== null) throw new Error(`the demo exited (${demo.exitCode}) before it was ready`);
    if (Date.now() > until) {
      killGroup(demo, 'SIGKILL');
      throw new Error('the demo was not ready within 5 minutes');
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  await new Promise((r) => setTimeout(r, 1_000)); // the files are written just before the URLs are printed
  return demo;
}

async function stopDemo(demo: ChildProcess): Promise<void> {
  if (demo.exitCode !== null) return;
  const exited = new Promise((r) => demo.once('exit', r));
  killGroup(demo, 'SIGINT');
  const timer = setTimeout(() => killGroup(demo, 'SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
  console.log(`   background demo stopped (exit ${demo.exitCode ?? demo.signalCode})`);
}

async function tryDocument(file: string, deadline: number): Promise<{ ran: number; skipped: number }> {
  const markdown = readFileSync(join(root, file), 'utf8');
  const blocks = extractBlocks(markdown);
  console.log(`\n== ${file}: ${blocks.length} shell block(s)`);
  const dir = freshCopy();
  const state = join(dir, '.try-docs-env');
  let demo: ChildProcess | undefined;
  let ran = 0;
  let skipped = 0;
  const demoAt = demoLine(markdown);
  try {
    for (const block of blocks) {
      if (demoAt !== undefined && demo === undefined && block.line > demoAt) demo = await startDemo(dir);
      console.log(`\n-- ${file}:${block.line}`);
      for (const l of block.code.split('\n')) console.log(`   $ ${l}`);
      if (block.skip !== undefined) {
        console.log(`   skipped: ${block.skip}`);
        skipped += 1;
        continue;
      }
      if (Date.now() > deadline) throw new Error('over the bound of 45 minutes in all');
      const began = Date.now();
      const code = await runBlock(dir, state, block.code, deadline);
      const took = ((Date.now() - began) / 1000).toFixed(1);
      console.log(`   -> exit ${code} in ${took} s`);
      if (code !== 0) throw new Error(`${file}:${block.line}: exit ${code}`);
      ran += 1;
    }
  } finally {
    if (demo) await stopDemo(demo);
    rmSync(dir, { recursive: true, force: true });
  }
  return { ran, skipped };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const files = process.argv.length > 2 ? process.argv.slice(2) : DEFAULT_DOCS;
  const deadline = Date.now() + TOTAL_TIMEOUT_MS;
  let ran = 0;
  let skipped = 0;
  try {
    for (const file of files) {
      const r = await tryDocument(file, deadline);
      ran += r.ran;
      skipped += r.skipped;
    }
    console.log(`\ndocs tried: ${files.length} document(s), ${ran} block(s) ran, ${skipped} skipped: OK`);
  } catch (error) {
    console.log(`\ndocs tried: FAILED: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
