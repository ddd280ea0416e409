import { type Logger, pino } from 'pino';

/**
 * Logs never carry credentials or whole payloads (docs/threats.md 69): request logs hold method, URL and peer only,
 * and the paths below are censored wherever they appear.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
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
    destination,
  );
}
