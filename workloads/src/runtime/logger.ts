// Structured JSON logs (one object per line on stdout), with the service name on every line.
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** `destination`: somewhere else than stdout (e.g. above a terminal progress display). */
export function createLogger(
  service: string,
  level = process.env.LOG_LEVEL ?? 'info',
  destination?: DestinationStream,
): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // Never let a credential reach the logs, whatever object is logged.
    redact: { paths: ['*.password', '*.apiKey', '*.api_key', 'password', 'apiKey'], censor: '[redacted]' },
  };
  return destination ? pino(options, destination) : pino(options);
}
