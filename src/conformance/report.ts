/** The kit's result for people: what was run against what, one line a check, and the counts. */
import { TEST_OPERATOR_NAME, TEST_PERIOD } from './forge.ts';
import type { KitRun } from './kit.ts';

export function reportLines(run: KitRun): string[] {
  const width = Math.max(...run.results.map((r) => r.id.length), 10);
  const lines = [
    `conformance kit: ${run.home} checking ${run.partner} at ${run.target} (run ${run.runId})`,
    `test data: operators ${run.namespace}* named "${TEST_OPERATOR_NAME}", summaries for ${TEST_PERIOD.from}..${TEST_PERIOD.to};`,
    '  they are real records in the target: run the kit against a test instance, never production.',
    '',
  ];
  for (const r of run.results) {
    const tail =
      r.status === 'PASS' ? `got ${r.got}` : r.status === 'SKIP' ? `skipped: ${r.got}` : `GOT ${r.got}`;
    lines.push(`${r.status} ${r.id.padEnd(width)}  sent ${r.sent}; expected ${r.expected}; ${tail}`);
  }
  const { pass, fail, skip } = run.counts;
  lines.push(
    '',
    `${pass} passed, ${fail} failed, ${skip} skipped: ${fail > 0 ? 'NOT CONFORMING' : 'conforming'}`,
  );
  return lines;
}
