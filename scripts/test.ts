/**
 * `npm test`: the whole suite through vitest, then one plain closing line that any CI reads:
 * "tests: N passed, N failed, N skipped". Extra arguments go to vitest (a file, -t pattern).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';

const results = '.vitest-results.json';
rmSync(results, { force: true });
const run = spawnSync(
  'vitest',
  ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${results}`, ...process.argv.slice(2)],
  { stdio: 'inherit' },
);

interface Summary {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  numTotalTestSuites: number;
  numFailedTestSuites: number;
}

if (!existsSync(results)) {
  console.log('tests: 0 passed, 1 failed (vitest wrote no results)');
  process.exit(run.status === 0 ? 1 : (run.status ?? 1));
}
const s = JSON.parse(readFileSync(results, 'utf8')) as Summary;
// A file that fails to load counts as a failure even though none of its tests ran.
const failed =
  s.numFailedTests + (s.numFailedTestSuites > 0 && s.numFailedTests === 0 ? s.numFailedTestSuites : 0);
console.log(
  `tests: ${s.numPassedTests} passed, ${failed} failed, ${s.numPendingTests + s.numTodoTests} skipped`,
);
process.exit(run.status === 0 && failed === 0 && s.numPassedTests > 0 ? 0 : 1);
