import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.ts';

/** Every command that runs something (no subcommands of its own), with its full name. */
function leaves(command: Command, prefix: readonly string[] = []): { name: string; command: Command }[] {
  return command.commands.flatMap((c) => {
    const path = [...prefix, c.name()];
    return c.commands.length === 0 ? [{ name: path.join(' '), command: c }] : leaves(c, path);
  });
}

describe('the help of every command', () => {
  const all = leaves(buildProgram());

  it('covers the commands of the README table', () => {
    const names = all.map((l) => l.name);
    for (const name of ['serve', 'certs', 'crl', 'demo', 'evidence export', 'retention run', 'check']) {
      expect(names).toContain(name);
    }
  });

  for (const { name, command } of all) {
    it(`${name} --help states its exit codes`, () => {
      let help = '';
      command.configureOutput({
        writeOut: (s) => {
          help += s;
        },
      });
      command.outputHelp();
      expect(help).toMatch(/^Usage: mra-gateway /);
      expect(help).toMatch(/\bexit(\s+codes:)?\s+[0-2]\b/i);
    });
  }
});
