/**
 * What a stray promise rejection does to the gateway process. The queue and HTTP libraries can leave a
 * rejection nobody awaits when a connection drops at the wrong moment (ioredis flushing its command queue
 * with "Connection is closed." during a Redis restart, a connect refused while a partner restarts). With
 * Node's default such a rejection ends the process, so a Redis restart could take the gateway down with it,
 * although PostgreSQL holds everything acknowledged. Those are logged and the process runs on; any other
 * unhandled rejection is logged and ends the process, as Node would, since its cause is unknown.
 */
import type { Logger } from 'pino';

const TRANSIENT = /^(connect ECONNREFUSED|read ECONNRESET|write EPIPE|socket hang up|Connection is closed\.)/;

/** A rejection raised by a dropped connection inside a library, with no frame of the gateway's own code. */
export function isStrayConnectionRejection(error: unknown): boolean {
  if (!(error instanceof Error) && (typeof error !== 'object' || error === null)) return false;
  const { message, stack } = error as { message?: unknown; stack?: unknown };
  if (typeof message !== 'string' || !TRANSIENT.test(message)) return false;
  const frames = typeof stack === 'string' ? stack.split('\n').slice(1) : [];
  return !frames.some((f) => /[/\\](src|tests|bench)[/\\]/.test(f) && !/node_modules/.test(f));
}

export function guardProcess(log: Logger): void {
  process.on('unhandledRejection', (reason: unknown) => {
    const err = reason instanceof Error ? { message: reason.message, stack: reason.stack } : String(reason);
    if (isStrayConnectionRejection(reason)) {
      log.warn(
        { err, alert: 'stray-rejection' },
        'a library left a dropped connection unhandled; running on',
      );
      return;
    }
    log.fatal({ err }, 'unhandled promise rejection; stopping');
    process.exitCode = 1;
    setImmediate(() => process.exit(1));
  });
}
