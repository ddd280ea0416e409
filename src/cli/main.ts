#!/usr/bin/env node
/** Command line of the gateway: parses the process's arguments with the program of program.ts. */
// First: sizes libuv's thread pool before anything starts it.
import { threadSettingError } from '../config/thread-pool.ts';
import { buildProgram, failureExit } from './program.ts';

const settingError = threadSettingError();
if (settingError !== undefined) {
  const { code, line } = failureExit(settingError);
  if (line !== undefined) console.error(line);
  process.exit(code);
}
const program = buildProgram();

program.parseAsync().catch((error: unknown) => {
  const { code, line } = failureExit(error);
  if (line !== undefined) console.error(line);
  process.exit(code);
});
