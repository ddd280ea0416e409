import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram, usageExitCode } from '../../src/cli/program.ts';

/** Parses `args` as the command line would, and answers the exit code and what commander wrote. */
async function exitOf(args: readonly string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const program = buildProgram({
    writeOut: (s) => {
      out += s;
    },
    writeErr: (s) => {
      err += s;
    },
  });
  try {
    await program.parseAsync([...args], { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    return { code: usageExitCode(error), out, err };
  }
  throw new Error(`${args.join(' ')} ran a command instead of stopping at its usage`);
}

describe('usage errors of the command line', () => {
  // One case per command that used to keep commander's 1, and the operators' commands that already said 2.
  const usageErrors: readonly (readonly string[])[] = [
    ['certs'], // --admin missing
    ['certs', '--admin', 'PE', '--bogus'],
    ['pki', '--bogus'],
    ['crl', '--ca', 'x.pem'],
    ['demo', '--bogus'],
    ['audit', 'verify', '--bogus'],
    ['audit', 'nonsense'],
    ['retention', 'run', '--bogus'],
    ['serve', '--bogus'],
    ['serve', 'extra'],
    ['openapi', '--bogus'],
    ['evidence', 'export', '--bogus'],
    ['evidence', 'verify', '--bogus'],
    ['conformance', '--bogus'],
    ['check', '--bogus'],
    ['tokens', 'new'],
    ['keys', 'rotate', '--bogus'],
    ['dead-letters', '--bogus'],
    ['report', '--bogus'],
    ['csr', '--bogus'],
    ['no-such-command'],
    ['--no-such-option'],
  ];
  for (const args of usageErrors) {
    it(`exits 2 on: mra-gateway ${args.join(' ')}`, async () => {
      const { code, err } = await exitOf(args);
      expect(code).toBe(2);
      expect(err).toMatch(/error:/);
    });
  }

  it('exits 0 on --help, of the program and of a command, and on --version', async () => {
    for (const args of [['--help'], ['certs', '--help'], ['audit', 'verify', '--help'], ['help', 'demo']]) {
      const { code, out } = await exitOf(args);
      expect(code, args.join(' ')).toBe(0);
      expect(out, args.join(' ')).toMatch(/^Usage: mra-gateway/);
    }
    const version = await exitOf(['--version']);
    expect(version.code).toBe(0);
    expect(version.out).toMatch(/^mra-gateway \d+\.\d+\.\d+/);
  });

  it('keeps the exit code a command gives its own error', () => {
    expect(usageExitCode(new CommanderError(1, 'commander.error', 'bad'))).toBe(1);
    expect(usageExitCode(new CommanderError(1, 'commander.unknownOption', 'bad'))).toBe(2);
  });
});
