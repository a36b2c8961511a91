import { type Logger, type LoggerOptions, pino } from 'pino';

export type { Logger };

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const opts: LoggerOptions = {
    level,
    base: { service: 'xiaoer' },
    redact: {
      paths: ['password', '*.password', 'token', '*.token', 'req.headers.authorization'],
      censor: '[redacted]',
    },
  };
  return destination ? pino(opts, destination) : pino(opts);
}
