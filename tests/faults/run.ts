/**
 * `npm run faults`: the fault suite (docs/threats.md section G and the replica setup) through vitest with its
 * own configuration, then one line per case with its counts, the section-G numbers without a passing case,
 * and a closing line: "faults: N passed, N failed". Extra arguments go to vitest (a file, -t pattern). A whole
 * run exits 1 when a case of section G has no passing line (redis-server missing, say), not only on a failure.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { RESULTS_FILE } from './report.ts';

const json = '.faults-vitest.json';
rmSync(RESULTS_FILE, { force: true });
rmSync(json, { force: true });
const run = spawnSync(
  'vitest',
  [
    'run',
    '--config',
    'vitest.faults.config.ts',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${json}`,
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit', env: { ...process.env, FAULTS_RESULTS: RESULTS_FILE } },
);

interface Assertion {
  title: string;
  status: string;
  failureMessages?: string[];
}
interface Results {
  numPassedTests: number;
  numFailedTests: number;
  numFailedTestSuites: number;
  testResults: { assertionResults: Assertion[] }[];
}

const lines = existsSync(RESULTS_FILE)
  ? readFileSync(RESULTS_FILE, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { id: string; line: string })
  : [];
const order = (id: string) => (id.startsWith('G') ? Number(id.slice(1)) : 1_000);
lines.sort((a, b) => order(a.id) - order(b.id));
console.log('\n== fault cases');
for (const l of lines) console.log(l.line);
const results: Results | undefined = existsSync(json)
  ? (JSON.parse(readFileSync(json, 'utf8')) as Results)
  : undefined;
for (const file of results?.testResults ?? []) {
  for (const a of file.assertionResults) {
    if (a.status !== 'failed') continue;
    console.log(`FAILED ${a.title}`);
    // The reason, short enough to survive a log that keeps only the end of the run.
    const reason = (a.failureMessages ?? []).join('\n').split('\n').slice(0, 12).join('\n       ');
    if (reason !== '') console.log(`       ${reason}`);
  }
}
const covered = new Set(lines.map((l) => l.id));
const missing = Array.from({ length: 16 }, (_, i) => `G${53 + i}`).filter((g) => !covered.has(g));
if (missing.length > 0) console.log(`section G without a passing case in this run: ${missing.join(', ')}`);
// A whole run must hold every case of section G: one that did not run (a tool missing) fails it. A run narrowed
// to a file or a pattern only says which it left out.
const whole = process.argv.length <= 2;
const uncovered = whole ? missing.length : 0;
// A file that fails to load (or a hook that fails) counts as a failure even though no test failed.
const failedTests = results?.numFailedTests ?? 1;
const failedSuites = results?.numFailedTestSuites ?? 0;
const failed = failedTests + (failedSuites > 0 && failedTests === 0 ? failedSuites : 0);
console.log(
  `faults: ${results?.numPassedTests ?? 0} passed, ${failed} failed, ${lines.length} case lines` +
    (uncovered > 0 ? `, ${uncovered} section-G cases not run` : ''),
);
process.exit(run.status === 0 && failed === 0 && uncovered === 0 ? 0 : 1);
