/**
 * `report`: the monitoring report of one MRA over one period (docs/monitoring.md), built from the store as
 * GET /api/v1/monitoring/report builds it, in JSON, CSV or HTML, to standard output or a file.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { LOCALES, localeOf } from '../monitoring/definitions.ts';
import { renderReportHtml } from '../monitoring/html/report-html.ts';
import { buildReport } from '../monitoring/report.ts';
import { renderReportCsv } from '../monitoring/report-csv.ts';
import { configFrom, EXIT_OK, withConfiguredStore } from './ops/common.ts';

const FORMATS = ['json', 'csv', 'html'] as const;

interface ReportOptions {
  config?: string;
  partner: string;
  from: string;
  to: string;
  format: (typeof FORMATS)[number];
  lang: string;
  out?: string;
}

export function registerReport(program: Command): void {
  program
    .command('report')
    .description(
      'the monitoring report of one MRA over one period, from the store (as the monitoring API gives it)',
    )
    .option('-c, --config <file>', 'configuration file (default: $MRA_CONFIG or ./gateway.yaml)')
    .requiredOption('--partner <adminId>', 'the partner of the MRA, e.g. CL')
    .requiredOption('--from <date>', 'first day, YYYY-MM-DD (UTC)')
    .requiredOption('--to <date>', 'last day, YYYY-MM-DD (UTC), included')
    .addOption(new Option('--format <format>', 'output format').choices([...FORMATS]).default('json'))
    .addOption(new Option('--lang <lang>', 'language of CSV and HTML').choices([...LOCALES]).default('en'))
    .option('-o, --out <file>', 'write to this file instead of standard output')
    .addHelpText(
      'after',
      '\nLookups a running gateway counted are included up to its last write of them (every few seconds).\n' +
        'Exit codes: 0 written, 2 cannot run (usage error, unknown partner, bad period, configuration, store unavailable or STORE_LOCKED).',
    )
    .action(async (opts: ReportOptions) => {
      const config = configFrom(opts.config);
      const report = await withConfiguredStore(config, (store) =>
        buildReport({ store, config }, { partner: opts.partner, from: opts.from, to: opts.to }),
      );
      const locale = localeOf(opts.lang);
      const text =
        opts.format === 'json'
          ? `${JSON.stringify(report, null, 2)}\n`
          : opts.format === 'csv'
            ? renderReportCsv(report, locale)
            : renderReportHtml(report, locale);
      if (opts.out === undefined) process.stdout.write(text);
      else {
        writeFileSync(resolve(opts.out), text);
        console.error(`report written to ${resolve(opts.out)}`);
      }
      process.exitCode = EXIT_OK;
    });
}
