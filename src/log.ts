import { type Logger, pino } from 'pino';
import pretty from 'pino-pretty';

/**
 * JSON lines by default; `readable` (LOG_FORMAT=pretty, log.pretty, serve --pretty) writes them through
 * pino-pretty for a developer's terminal.
 *
 * Logs never carry credentials or whole payloads (docs/threats.md 69): request logs hold method, URL and peer only,
 * and the paths below are censored wherever they appear.
 */
export function createLogger(level: string, destination?: pino.DestinationStream, readable = false): Logger {
  return pino(
    {
      level,
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'headers.authorization',
          '*.privateKey',
          '*.token',
        ],
        censor: '[redacted]',
      },
      // A hostile payload may be deeply nested; pino stops descending here instead of walking it all.
      depthLimit: 8,
      edgeLimit: 64,
    },
    readable
      ? pretty({
          sync: true,
          colorize: destination === undefined && process.stdout.isTTY,
          translateTime: 'SYS:HH:MM:ss.l',
          ignore: 'pid,hostname',
          ...(destination === undefined ? {} : { destination }),
        })
      : destination,
  );
}
