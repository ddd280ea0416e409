/**
 * Keeps partners' revocation current while the gateway runs. Once a minute, revocation files that changed on
 * disk are read again (a newer CRL takes effect without a restart; one that fails to load is reported and the
 * previous one stays in force). At start and every hour, the alerts about CRLs are logged: one about to lapse
 * ('crl-expiring') and one that has lapsed ('crl-lapsed'), after which every chain of that partner is refused
 * until a newer list is installed.
 */
import type { Logger } from 'pino';
import { reloadRevocation } from '../config/revocation.ts';
import { revocationAlerts } from '../crypto/revocation.ts';
import type { Partner } from '../mra/types.ts';

export const REVOCATION_ALERT_INTERVAL_MS = 3_600_000;
export const REVOCATION_RELOAD_INTERVAL_MS = 60_000;

export interface WatchOptions {
  clock?: (() => Date) | undefined;
  alertIntervalMs?: number;
  reloadIntervalMs?: number;
}

/** Starts the checks; the returned function stops them. */
export function watchRevocationLists(
  partners: readonly Partner[],
  log: Logger,
  options: WatchOptions = {},
): () => void {
  const clock = options.clock ?? (() => new Date());
  const stores = partners.map((p) => p.trust);
  const alert = () => {
    for (const { message, ...fields } of revocationAlerts(stores, clock())) {
      if (fields.alert === 'crl-lapsed') log.error(fields, message);
      else log.warn(fields, message);
    }
  };
  const reload = () => {
    const outcomes = reloadRevocation(stores);
    for (const outcome of outcomes) {
      if (outcome.ok) log.info({ partner: outcome.adminId }, 'revocation files reloaded');
      else
        log.error(
          { alert: 'crl-reload-failed', partner: outcome.adminId, reason: outcome.error },
          'changed revocation files refused; the previous revocation stays in force',
        );
    }
    // A newer CRL ends an alert, or brings its own: say so now rather than within the hour.
    if (outcomes.some((o) => o.ok)) alert();
  };
  alert();
  const timers = [
    setInterval(alert, options.alertIntervalMs ?? REVOCATION_ALERT_INTERVAL_MS),
    setInterval(reload, options.reloadIntervalMs ?? REVOCATION_RELOAD_INTERVAL_MS),
  ];
  // Neither must keep a stopping process alive.
  for (const t of timers) t.unref();
  return () => {
    for (const t of timers) clearInterval(t);
  };
}
