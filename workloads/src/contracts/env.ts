// Environment variables the workloads read, grouped by what they configure. The keys are
// the variable names: the operator sets exactly these, and the workloads validate them.
import { z } from 'zod';
import { env } from '../runtime/config.js';
import { symbolSchema } from './symbols.js';

export const natsEnv = z.object({
  NATS_URL: env.url(['nats', 'tls']),
  /** How long JetStream keeps messages (seconds). */
  NATS_STREAM_MAX_AGE_SECONDS: env.positiveInt().default(7 * 24 * 3600),
  /** Duplicate window of the streams (seconds). */
  NATS_DUPLICATE_WINDOW_SECONDS: env.positiveInt().default(120),
});

export const kafkaEnv = z.object({
  /** Optional: without it, nothing is archived to Kafka. */
  KAFKA_BROKERS: env.list(z.string().regex(/^[^\s:]+:\d+$/, 'each broker is host:port')).optional(),
  KAFKA_TICK_TOPIC: env.string().default('tick_archive'),
  KAFKA_AGGREGATE_TOPIC: env.string().default('aggregate_archive'),
  KAFKA_CLIENT_ID: env.string().default('market-pipeline'),
});

export const timescaleEnv = z.object({
  TIMESCALEDB_HOST: env.string(),
  TIMESCALEDB_PORT: env.port().default(5432),
  TIMESCALEDB_DATABASE: env.string().default('suho_trading'),
  TIMESCALEDB_USER: env.string(),
  TIMESCALEDB_PASSWORD: env.string(),
  TIMESCALEDB_POOL_SIZE: env.positiveInt().default(4),
});

export const clickhouseEnv = z.object({
  CLICKHOUSE_HOST: env.string(),
  CLICKHOUSE_PORT: env.port().default(8123),
  /** http or https. */
  CLICKHOUSE_PROTOCOL: z.enum(['http', 'https']).default('http'),
  CLICKHOUSE_DATABASE: env.string().default('suho_analytics'),
  CLICKHOUSE_USER: env.string().default('default'),
  CLICKHOUSE_PASSWORD: z.string().default(''),
});

/** PIP_SIZES="XAU/USD=0.01,XAG/USD=0.001": overrides of the default pip per symbol. */
const pipSizesVar = z
  .string()
  .transform((s, ctx) => {
    const out: Record<string, number> = {};
    for (const part of s
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)) {
      const [sym, size] = part.split('=');
      const n = Number(size);
      if (!sym || !symbolSchema.safeParse(sym.trim()).success || !(n > 0)) {
        ctx.addIssue({ code: 'custom', message: `'${part}' is not SYMBOL=positive number` });
        return z.NEVER;
      }
      out[sym.trim()] = n;
    }
    return out;
  })
  .default({});

export const marketEnv = z.object({
  SYMBOLS: env.list(symbolSchema),
  PIP_SIZES: pipSizesVar,
  TENANT_ID: env.string().default('system'),
});

export const aggregatorEnv = z.object({
  /**
   * Closed bars before the last one that every scheduled aggregator run builds again, to
   * pick up ticks that reached the database late (bridge lag, replays after an outage).
   */
  AGGREGATE_LOOKBACK_BARS: z.coerce.number().int().min(0).max(1000).default(2),
});

export const opsEnv = z.object({
  METRICS_PORT: env.port().default(9464),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
});
