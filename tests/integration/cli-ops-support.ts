/**
 * Running the command line in the operators' command tests: as a process (what an operator runs, with its
 * exit code), or in this process where a test is about a command's usage and not about the process.
 */
import { execFile } from 'node:child_process';
import { vi } from 'vitest';
import { buildProgram, failureExit } from '../../src/cli/program.ts';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the command line; `env` replaces DATABASE_URL (absent: the embedded store of the configuration). */
export function gateway(
  args: readonly string[],
  env: Record<string, string> = {},
  input?: string,
): Promise<Run> {
  const base = { ...process.env };
  delete base.DATABASE_URL;
  delete base.REDIS_URL;
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['src/cli/main.ts', ...args],
      { env: { ...base, LOG_LEVEL: 'silent', ...env }, timeout: 120_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end(input ?? '');
  });
}

/**
 * The same command line parsed in this process (program.ts, with main.ts's ending of errors): for usage
 * errors, help and version, which stop before any store or network is reached.
 */
export async function inProcess(args: readonly string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => {
    stdout += `${a.join(' ')}\n`;
  });
  const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => {
    stderr += `${a.join(' ')}\n`;
  });
  const saved = process.exitCode;
  process.exitCode = undefined;
  try {
    const program = buildProgram({
      writeOut: (s) => {
        stdout += s;
      },
      writeErr: (s) => {
        stderr += s;
      },
    });
    try {
      await program.parseAsync([...args], { from: 'user' });
      return { code: Number(process.exitCode ?? 0), stdout, stderr };
    } catch (thrown) {
      const { code, line } = failureExit(thrown);
      if (line !== undefined) stderr += `${line}\n`;
      return { code, stdout, stderr };
    }
  } finally {
    process.exitCode = saved;
    log.mockRestore();
    error.mockRestore();
  }
}
