/**
 * What the operators' commands share: the exit codes every one of them documents, the store opened from a
 * configuration file (usage errors exit 2 through the program: program.ts).
 */
import { configPathFrom, loadConfig } from '../../config/load.ts';
import type { GatewayConfig } from '../../config/types.ts';
import { openStore } from '../../store/open.ts';
import type { Store } from '../../store/types.ts';

/** 0: done, or everything checked is fine. */
export const EXIT_OK = 0;
/** 1: the command ran and found a problem in what it checked (a failed check, nothing to replay). */
export const EXIT_PROBLEM = 1;
/** 2: the command could not run: a usage error, an unreadable configuration, a store that cannot be opened. */
export const EXIT_CANNOT_RUN = 2;

/** The sentence every command's help ends with. */
export const EXIT_CODES_HELP = (one: string): string =>
  `\nExit codes: 0 ok, 1 ${one}, 2 cannot run (usage error, unreadable configuration, store unavailable or locked by a running gateway).`;

export function configFrom(file: string | undefined): GatewayConfig {
  return loadConfig(configPathFrom(file));
}

/**
 * Opens the configured store (PostgreSQL, or the embedded data folder, refused with STORE_LOCKED while a
 * running gateway holds it), runs `work` and closes the store whatever happens.
 */
export async function withConfiguredStore<T>(
  config: GatewayConfig,
  work: (store: Store) => Promise<T>,
): Promise<T> {
  const store = await openStore(config.storage);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

/** A comma-separated list option, trimmed, empty items dropped. */
export function listOf(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** A plain text table: a header, then one line per row, columns padded to their widest cell. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
