/**
 * `conformance --target URL`: the kit a partner administration runs against its own gateway to check that it
 * speaks the protocol. Exit 0 every check passed, 1 one failed, 2 the kit cannot run.
 */
import { type Command, Option } from 'commander';
import { configPathFrom, loadConfig } from '../config/load.ts';
import { CannotRun, runConformance, SECTIONS } from '../conformance/kit.ts';
import { reportLines } from '../conformance/report.ts';
import { GatewayError } from '../errors.ts';

interface Options {
  target: string;
  config?: string;
  partner?: string;
  only: string[];
  json?: boolean;
}

export function registerConformance(program: Command): void {
  program
    .command('conformance')
    .description(
      "check that a partner's gateway speaks the protocol, acting as its partner; exit 0 all passed, 1 a check failed, 2 cannot run",
    )
    .requiredOption('-t, --target <url>', 'base URL of the gateway to check, ending in /mra/v1')
    .option(
      '-c, --config <file>',
      "the kit's configuration: a gateway configuration whose partners list the target (default: $MRA_CONFIG or ./gateway.yaml)",
    )
    .option(
      '-p, --partner <adminId>',
      'which configured partner the target is (default: the one whose endpoint is --target)',
    )
    .addOption(
      new Option(
        '--only <sections>',
        `comma-separated sections to run: ${SECTIONS.map((s) => s.name).join(', ')}`,
      )
        .argParser((value: string, previous: string[]) => [
          ...previous,
          ...value
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
        ])
        .default([], 'all'),
    )
    .option('--json', 'print the result as JSON')
    .action(async (opts: Options) => {
      process.exitCode = await conformanceCommand(opts);
    });
}

export async function conformanceCommand(opts: Options): Promise<number> {
  try {
    const config = loadConfig(configPathFrom(opts.config));
    const run = await runConformance(config, { target: opts.target, partner: opts.partner, only: opts.only });
    if (opts.json) console.log(JSON.stringify(run, null, 2));
    else for (const line of reportLines(run)) console.log(line);
    return run.exitCode;
  } catch (error) {
    if (error instanceof CannotRun || error instanceof GatewayError) {
      const code = error instanceof GatewayError ? `${error.code}: ` : '';
      console.error(`mra-gateway conformance: cannot run: ${code}${error.message}`);
      return 2;
    }
    throw error;
  }
}
