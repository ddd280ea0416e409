#!/usr/bin/env node
/** Command line of the gateway: parses the process's arguments with the program of program.ts. */
import { buildProgram, failureExit } from './program.ts';

const program = buildProgram();

program.parseAsync().catch((error: unknown) => {
  const { code, line } = failureExit(error);
  if (line !== undefined) console.error(line);
  process.exit(code);
});
