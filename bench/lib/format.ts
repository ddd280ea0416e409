/** How every benchmark prints: figures, labelled lines, the machine it ran on. */
import os from 'node:os';

/** A whole number with thousands separators: 12,345. */
export const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** One labelled line of a benchmark's report. */
export const line = (label: string, value: string) => console.log(`${label.padEnd(34)} ${value}`);

/** What a benchmark on a shared or virtual machine cannot control, printed with every report. */
export const UNCONTROLLED =
  'other processes on the machine (their cpu is shown where the benchmark accounts cpu), CPU frequency and steal time of a virtual machine, ' +
  'the cost of system calls (sockets, the database: it differs between machines of the same class), ' +
  'and disk flush time for PostgreSQL commits; ratios to a baseline of the same run cancel much of it';

export function printMachine(): void {
  const cpus = os.cpus();
  line('machine', `${cpus.length} cores, ${cpus[0]?.model ?? 'unknown CPU'}`);
  line('memory', `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`);
  line('os', `${os.type()} ${os.release()} ${os.arch()}`);
  line('node', process.version);
}

/** A Markdown table, each column as wide as its widest cell, so that it reads in a terminal and in a document. */
export function printTable(head: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const print = (cells: readonly string[]) =>
    console.log(`| ${widths.map((w, i) => (cells[i] ?? '').padEnd(w)).join(' | ')} |`);
  print(head);
  print(widths.map((w) => '-'.repeat(w)));
  for (const row of rows) print(row);
}
