// Structured JSON logs (one object per line on stdout), with the service name on every line.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(service: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // Never let a credential reach the logs, whatever object is logged.
    redact: { paths: ['*.password', '*.apiKey', '*.api_key', 'password', 'apiKey'], censor: '[redacted]' },
  });
}
