/**
 * The extractor of `npm run docs:try` (scripts/try-docs.ts): which shell blocks of a document run, in which
 * order, with which text, and which are skipped with their reason; and the runner itself on a small document
 * (a block that passes, a marked one skipped, a failing one stopping the run).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DOCS, demoLine, extractBlocks } from '../../scripts/try-docs.ts';

const doc = [
  '# Title',
  '',
  '```sh',
  'echo one',
  'echo two',
  '```',
  '',
  '<!-- no-try: starts a server that never exits -->',
  '',
  '```sh',
  'npm run gateway -- serve',
  '```',
  '',
  '```yaml',
  'home: { adminId: PE }',
  '```',
  '',
  '```bash',
  'export A=1',
  '```',
  '',
  '- a list item:',
  '  ```sh',
  '  echo indented',
  '  ```',
  '',
  '````sh',
  'cat <<X',
  '```',
  'X',
  '````',
  '',
  '```json',
  '{ "sh": true }',
  '```',
].join('\n');

describe('extractBlocks', () => {
  it('returns the sh and bash blocks in order, with lines, text and skip reasons', () => {
    const blocks = extractBlocks(doc);
    expect(blocks).toEqual([
      { line: 3, code: 'echo one\necho two' },
      { line: 10, code: 'npm run gateway -- serve', skip: 'starts a server that never exits' },
      { line: 18, code: 'export A=1' },
      { line: 23, code: 'echo indented' },
      { line: 27, code: 'cat <<X\n```\nX' },
    ]);
  });

  it('refuses a no-try marker without a reason', () => {
    expect(() => extractBlocks('<!-- no-try: -->\n```sh\nls\n```\n')).toThrow(/needs a reason/);
  });

  it('applies a marker only to the block right after it', () => {
    const blocks = extractBlocks('<!-- no-try: x -->\ntext between\n```sh\nls\n```\n');
    expect(blocks).toEqual([{ line: 3, code: 'ls' }]);
  });

  it('finds where a document starts the demo in the background', () => {
    expect(demoLine('# A\n\n<!-- try-with: demo -->\n')).toBe(3);
    expect(demoLine('# A\n`<!-- try-with: demo -->` is the marker\n')).toBeUndefined();
    expect(demoLine(doc)).toBeUndefined();
  });

  it('covers by default the README and every guide that shows a shell block', () => {
    const withBlocks = ['README.md', ...readdirSync('docs').map((f) => join('docs', f))].filter(
      (f) => f.endsWith('.md') && extractBlocks(readFileSync(f, 'utf8')).length > 0,
    );
    expect(withBlocks).toContain('docs/monitoring.md');
    expect([...DEFAULT_DOCS].sort()).toEqual(withBlocks.sort());
  });
});

describe('npm run docs:try on a document', () => {
  const dir = join('tests', '.try-docs-tmp');
  const run = (md: string) => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'doc.md'), md);
    try {
      return spawnSync(process.execPath, ['scripts/try-docs.ts', join(dir, 'doc.md')], {
        encoding: 'utf8',
        timeout: 120_000,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('runs blocks in a fresh copy, carries exported variables, prints skips, and fails on a failing block', () => {
    const ok = run(
      '```sh\nexport GREETING=hello\ntest -f package.json\n```\n\n<!-- no-try: never -->\n```sh\nexit 3\n```\n\n```sh\necho "$GREETING from $(basename "$PWD")"\n```\n',
    );
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/skipped: never/);
    expect(ok.stdout).toMatch(/hello from mra-docs-/);
    expect(ok.stdout).toMatch(/1 document\(s\), 2 block\(s\) ran, 1 skipped: OK/);

    const bad = run('```sh\ntrue\n```\n\n```sh\nfalse\necho not reached\n```\n');
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/doc\.md:5: exit 1/);
    expect(bad.stdout).not.toMatch(/^not reached/m);
  });
});
