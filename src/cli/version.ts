/** `--version` of the program: `mra-gateway <version>`, the version of package.json. */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';

export function gatewayVersion(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  const { version } = JSON.parse(text) as { version?: unknown };
  return typeof version === 'string' ? version : 'unknown';
}

export function registerVersion(program: Command): void {
  program.version(`mra-gateway ${gatewayVersion()}`, '-V, --version', 'print the version and exit');
}
