import { type Logger, type LoggerOptions, pino } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export type LogFormat = 'json' | 'pretty';

/**
 * One structured logger for the whole service (components take child loggers). JSON lines for
 * log collectors; on a terminal, readable lines in the local time instead (`logFormat`).
 */
export function createLogger(
  level: string,
  opts: { destination?: NodeJS.WritableStream; format?: LogFormat } = {},
): Logger {
  const options: LoggerOptions = {
    level,
    base: { service: 'xiaoer' },
    redact: {
      paths: ['password', '*.password', 'token', '*.token', 'req.headers.authorization'],
      censor: '[redacted]',
    },
  };
  if (opts.format === 'pretty') {
    // In-process and synchronous: no worker thread, and nothing lost when the process exits.
    const stream = pretty({
      sync: true,
      translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
      ignore: 'pid,hostname,service',
      ...(opts.destination ? { destination: opts.destination } : {}),
    });
    return pino(options, stream);
  }
  return opts.destination ? pino(options, opts.destination) : pino(options);
}
