/**
 * `dead-letters list` and `dead-letters replay`, straight on the store: deliveries to partners given up
 * (outbox rows, src/delivery/status.ts) and webhook notifications given up (src/notifications/dead-letters.ts).
 * A replay moves dead rows back to pending once and chains an audit entry, as the API's replay does; a running
 * gateway's relays pick the rows up at their next tick.
 */
import { type Command, Option } from 'commander';
import { createDeliveryStatus, type DeliveryView } from '../delivery/status.ts';
import { GatewayError } from '../errors.ts';
import {
  type DeadNotification,
  listDeadNotifications,
  replayDeadNotifications,
} from '../notifications/dead-letters.ts';
import { configFrom, EXIT_OK, EXIT_PROBLEM, listOf, table, withConfiguredStore } from './ops/common.ts';

type Kind = 'deliveries' | 'webhooks' | 'all';
const KINDS: readonly Kind[] = ['deliveries', 'webhooks', 'all'];
const ADMIN_ID = /^[A-Z]{2}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ACTOR = 'cli';

interface ListOptions {
  config?: string;
  kind: Kind;
  partner?: string;
  subscription?: string;
  limit: string;
  json: boolean;
}

interface ReplayOptions {
  config?: string;
  kind?: Kind;
  ids?: string;
  partner?: string;
  subscription?: string;
  json: boolean;
}

export function registerDeadLetters(program: Command): void {
  const group = program
    .command('dead-letters')
    .description('deliveries to partners and webhook notifications given up, listed and sent again');
  const common = (c: Command) =>
    c
      .option('-c, --config <file>', 'configuration file (default: $MRA_CONFIG or ./gateway.yaml)')
      .option(
        '--partner <adminId>',
        'deliveries to this partner; webhook events about records of this issuer',
      )
      .option('--subscription <id>', 'webhook notifications of this subscription only')
      .option('--json', 'machine output: one JSON document', false);

  common(group.command('list').description('list dead letters as a table'))
    .addOption(new Option('--kind <kind>', 'which dead letters').choices([...KINDS]).default('all'))
    .option('--limit <n>', 'at most this many of each kind (1 to 10000)', '100')
    .addHelpText(
      'after',
      '\nExit codes: 0 listed (none is not an error), 2 cannot run (usage error, configuration, store unavailable or STORE_LOCKED).',
    )
    .action(async (opts: ListOptions) => {
      const limit = /^\d{1,5}$/.test(opts.limit) ? Number(opts.limit) : 0;
      if (limit < 1 || limit > 10_000) throw new GatewayError('BAD_REQUEST', '--limit must be 1 to 10000');
      checkFilters(opts);
      const config = configFrom(opts.config);
      const { deliveries, webhooks } = await withConfiguredStore(config, async (store) => ({
        deliveries:
          opts.kind === 'webhooks' || opts.subscription !== undefined
            ? []
            : (await createDeliveryStatus(store).list({ state: 'dead', partner: opts.partner, limit }))
                .deliveries,
        webhooks:
          opts.kind === 'deliveries'
            ? []
            : await listDeadNotifications(store, {
                subscriptionId: opts.subscription,
                issuer: opts.partner,
                limit,
              }),
      }));
      if (opts.json) console.log(JSON.stringify({ deliveries, webhooks }, null, 2));
      else printTables(opts.subscription !== undefined ? 'webhooks' : opts.kind, deliveries, webhooks);
      process.exitCode = EXIT_OK;
    });

  common(
    group
      .command('replay')
      .description('send dead letters again, each once; say which: --ids, --partner or --subscription'),
  )
    .addOption(new Option('--kind <kind>', 'which dead letters (required with --ids)').choices([...KINDS]))
    .option('--ids <list>', 'comma-separated ids, as `dead-letters list` shows them')
    .addHelpText(
      'after',
      '\nRows no longer dead (already replayed, delivered) are left alone; every replay is chained in the audit trail.\n' +
        'Exit codes: 0 replayed at least one, 1 nothing of the selection was dead, 2 cannot run (usage error, configuration, store unavailable or STORE_LOCKED).',
    )
    .action(async (opts: ReplayOptions) => {
      checkFilters(opts);
      const ids = opts.ids === undefined ? undefined : parseIds(opts.ids);
      if (ids === undefined && opts.partner === undefined && opts.subscription === undefined) {
        throw new GatewayError('BAD_REQUEST', 'say which dead letters: --ids, --partner or --subscription');
      }
      if (ids !== undefined && (opts.kind === undefined || opts.kind === 'all')) {
        throw new GatewayError(
          'BAD_REQUEST',
          '--ids needs --kind deliveries or --kind webhooks: ids are per kind',
        );
      }
      const kind = opts.kind ?? (opts.subscription !== undefined ? 'webhooks' : 'all');
      const config = configFrom(opts.config);
      const result = await withConfiguredStore(config, async (store) => ({
        deliveries:
          kind === 'webhooks' || opts.subscription !== undefined
            ? []
            : (await createDeliveryStatus(store).replay({ ids, partner: opts.partner, actor: ACTOR }))
                .replayed,
        webhooks:
          kind === 'deliveries'
            ? []
            : await replayDeadNotifications(store, {
                ids,
                subscriptionId: opts.subscription,
                issuer: opts.partner,
                actor: ACTOR,
              }),
      }));
      if (opts.json) console.log(JSON.stringify(result));
      else {
        console.log(`deliveries replayed: ${result.deliveries.length}${ids_(result.deliveries)}`);
        console.log(`webhook notifications replayed: ${result.webhooks.length}${ids_(result.webhooks)}`);
      }
      const any = result.deliveries.length + result.webhooks.length > 0;
      if (!any) console.error('mra-gateway: nothing of the selection was dead');
      process.exitCode = any ? EXIT_OK : EXIT_PROBLEM;
    });
}

const ids_ = (ids: readonly number[]) => (ids.length > 0 ? ` (ids ${ids.join(', ')})` : '');

function checkFilters(opts: { partner?: string | undefined; subscription?: string | undefined }): void {
  if (opts.partner !== undefined && !ADMIN_ID.test(opts.partner)) {
    throw new GatewayError('BAD_REQUEST', '--partner must be an adminId of two capital letters');
  }
  if (opts.subscription !== undefined && !UUID.test(opts.subscription)) {
    throw new GatewayError('BAD_REQUEST', '--subscription must be a subscription id (a UUID)');
  }
}

function parseIds(text: string): number[] {
  const parts = listOf(text);
  if (parts.length === 0 || parts.length > 10_000 || !parts.every((p) => /^[1-9]\d{0,15}$/.test(p))) {
    throw new GatewayError('BAD_REQUEST', '--ids must be a comma-separated list of positive ids');
  }
  return [...new Set(parts.map(Number))];
}

function printTables(
  kind: Kind,
  deliveries: readonly DeliveryView[],
  webhooks: readonly DeadNotification[],
): void {
  const clip = (s: string | null, n = 60) => (s === null ? '' : s.length > n ? `${s.slice(0, n - 1)}…` : s);
  const section = (title: string, headers: string[], rows: string[][]) => {
    console.log(`${title}: ${rows.length}`);
    if (rows.length > 0) console.log(table(headers, rows));
  };
  if (kind !== 'webhooks') {
    section(
      'deliveries dead',
      ['id', 'partner', 'record', 'aeoId', 'v', 'attempts', 'outcome', 'created', 'last error'],
      deliveries.map((d) => [
        String(d.id),
        d.partner,
        d.recordId,
        d.aeoId,
        String(d.version),
        String(d.attempts),
        d.outcome ?? '',
        d.createdAt,
        clip(d.lastError),
      ]),
    );
  }
  if (kind !== 'deliveries') {
    if (kind === 'all') console.log('');
    section(
      'webhook notifications dead',
      ['id', 'subscription', 'client', 'type', 'issuer', 'aeoId', 'attempts', 'created', 'last error'],
      webhooks.map((w) => [
        String(w.id),
        w.subscriptionId,
        w.apiClient,
        w.type,
        w.issuer,
        w.aeoId ?? '',
        String(w.attempts),
        w.createdAt,
        clip(w.lastError),
      ]),
    );
  }
}
