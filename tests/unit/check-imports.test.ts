import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkImports } from '../../scripts/check-imports.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A src/ folder with the given files, relative path → text. */
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'imports-'));
  dirs.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

const messages = (root: string) => checkImports(root).map((v) => `${v.file.split('/').pop()}:${v.message}`);

describe('the import direction', () => {
  it('holds for the repository', () => {
    expect(checkImports('src')).toEqual([]);
  });

  it('accepts arrows down the layers and the listed arrows within one', () => {
    const root = tree({
      'http/a.ts': "import { x } from '../inbound/b.ts';\nimport type { Y } from '../protocol/c.ts';\n",
      'inbound/b.ts': "export const x = 1;\nimport { z } from './d.ts';\n",
      'inbound/d.ts': 'export const z = 1;\n',
      'lookup/e.ts': "import type { C } from '../inbound/change.ts';\n",
      'protocol/c.ts': "import type { E } from '../errors.ts';\nexport type Y = E;\n",
      'crypto/f.ts': "import { jwtVerify } from 'jose';\n",
      'config/g.ts': 'export const port = process.env.PORT;\n',
    });
    expect(messages(root)).toEqual([]);
  });

  it('names the file, the line of the specifier and the import of an arrow back up', () => {
    const root = tree({
      'mra/scope.ts': "// the MRA\nimport type { Verdict } from '../inbound/verdict.ts';\n",
      'delivery/deliver.ts': "import {\n  feedPage,\n} from '../partner-api/feed.ts';\n",
      'protocol/record.ts': "export const f = () => import('../store/open.ts');\n",
    });
    const found = checkImports(root);
    expect(found.map((v) => [v.file.split('/').slice(-2).join('/'), v.line])).toEqual([
      ['delivery/deliver.ts', 3],
      ['mra/scope.ts', 2],
      ['protocol/record.ts', 1],
    ]);
    expect(found[0]!.message).toMatch(/delivery may not import partner-api: same layer/);
    expect(found[1]!.message).toMatch(/mra may not import inbound: it is in a higher layer/);
    expect(found[2]!.message).toMatch(/protocol may not import store/);
  });

  it('keeps packages and the environment to their one module', () => {
    const root = tree({
      'inbound/a.ts': "import pg from 'pg';\nimport { Queue } from 'bullmq';\n",
      'lookup/b.ts': "import { importJWK } from 'jose';\nimport forge from 'node-forge';\n",
      'notifications/c.ts':
        "import { PGlite } from '@electric-sql/pglite/vector';\nconst u = process.env.URL;\n",
      'queue/d.ts': "const r = process['env'];\n",
    });
    expect(messages(root)).toEqual([
      'a.ts:import pg: only src/store may import pg',
      'a.ts:import bullmq: only src/queue may import bullmq',
      'b.ts:import jose: only src/crypto may import jose',
      'b.ts:import node-forge: only src/crypto may import node-forge',
      'c.ts:import @electric-sql/pglite/vector: only src/store may import @electric-sql/pglite',
      'c.ts:reads the environment: only src/config may',
      'd.ts:reads the environment: only src/config may',
    ]);
  });

  it('refuses a module the table does not place, and an import out of src/', () => {
    const root = tree({
      'reports/a.ts': "import { x } from '../../tests/support/db.ts';\n",
      'inbound/b.ts': "import { y } from '../reports/a.ts';\n",
    });
    expect(messages(root)).toEqual([
      'b.ts:import ../reports/a.ts: reports is not in the layer table of scripts/check-imports.ts',
      'a.ts:reports is not in the layer table of scripts/check-imports.ts',
      'a.ts:import ../../tests/support/db.ts leaves src/',
    ]);
  });

  it('fails the command, naming the file and the import', () => {
    const root = tree({
      'mra/a.ts': "import { b } from '../http/b.ts';\n",
      'http/b.ts': 'export const b = 1;\n',
    });
    const run = spawnSync(process.execPath, ['scripts/check-imports.ts', root], { encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/mra\/a\.ts:1: import \.\.\/http\/b\.ts: mra may not import http/);
  });
});
