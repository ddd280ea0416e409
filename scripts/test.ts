/**
 * `npm test`: the whole suite through vitest, then one plain closing line that any CI reads:
 * "tests: N passed, N failed, N skipped". Extra arguments go to vitest (a file, -t pattern).
 *
 * A test that never finished counts as failed and is named: vitest leaves it "pending" in its report when the
 * process running its file died (a crash, a signal), and would otherwise print only "Worker exited
 * unexpectedly", with no file.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { relative } from 'node:path';

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
  numTodoTests: number;
  numFailedTestSuites: number;
  testResults: { name: string; assertionResults: { fullName: string; status: string }[] }[];
}

if (!existsSync(results)) {
  console.log('tests: 0 passed, 1 failed (vitest wrote no results)');
  process.exit(run.status === 0 ? 1 : (run.status ?? 1));
}
const s = JSON.parse(readFileSync(results, 'utf8')) as Summary;
const unfinished = s.testResults.flatMap((file) =>
  file.assertionResults
    .filter((t) => t.status === 'pending')
    .map((t) => `${relative(process.cwd(), file.name)} > ${t.fullName}`),
);
const skipped = s.testResults.reduce(
  (n, file) => n + file.assertionResults.filter((t) => t.status === 'skipped').length,
  0,
);
for (const name of unfinished) console.log(`never finished (its process died?): ${name}`);
// A file that fails to load counts as a failure even though none of its tests ran.
const failed =
  s.numFailedTests +
  unfinished.length +
  (s.numFailedTestSuites > 0 && s.numFailedTests === 0 ? s.numFailedTestSuites : 0);
console.log(`tests: ${s.numPassedTests} passed, ${failed} failed, ${skipped + s.numTodoTests} skipped`);
process.exit(run.status === 0 && failed === 0 && s.numPassedTests > 0 ? 0 : 1);
