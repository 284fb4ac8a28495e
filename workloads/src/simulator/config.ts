// Configuration of `market-pipeline simulate`: environment variables (validated with zod
// through loadConfig) and command-line flags, which are mapped onto the same variables so
// that one schema validates both and an error always names the variable.
import { z } from 'zod';
import { opsEnv } from '../contracts/env.js';
import { symbolSchema } from '../contracts/symbols.js';
import { env } from '../runtime/config.js';
import type { SimulatorOptions } from './simulator-server.js';
import { UsageError } from '../runtime/command-args.js';

export { UsageError };

/** The key the simulator accepts unless POLYGON_API_KEY says otherwise. */
export const DEMO_API_KEY = 'simulator-demo-key';
export const DEFAULT_SYMBOLS = ['EUR/USD', 'GBP/USD', 'USD/JPY', 'XAU/USD'];

const positiveNumber = (max: number) => z.coerce.number().positive().max(max);
const count = () => z.coerce.number().int().min(0);

/** Unix ms or an ISO-8601 time. */
const instant = z.string().transform((s, ctx) => {
  const ms = /^\d+$/.test(s) ? Number(s) : Date.parse(s);
  if (Number.isNaN(ms)) {
    ctx.addIssue({ code: 'custom', message: 'must be Unix ms or an ISO-8601 time' });
    return z.NEVER;
  }
  return ms;
});

export const simulatorEnv = z
  .object({
    SIMULATOR_PORT: z.coerce.number().int().min(0).max(65535).default(8765),
    SIMULATOR_HOST: env.string().default('0.0.0.0'),
    POLYGON_API_KEY: env.string().default(DEMO_API_KEY),
    SYMBOLS: env.list(symbolSchema).default(DEFAULT_SYMBOLS),
    SIMULATOR_SEED: z.coerce.number().int().default(42),
    /** Live WebSocket quotes per second per symbol (above 1000/s, several share a ms). */
    SIMULATOR_QUOTES_PER_SECOND: positiveNumber(100_000).default(4),
    /** Quote density of REST history (before SIMULATOR_LIVE_FROM), per symbol. */
    SIMULATOR_HISTORY_QUOTES_PER_MINUTE: positiveNumber(60_000).default(4),
    /** Where REST switches to the live density; default: 00:00 UTC of the start day. */
    SIMULATOR_LIVE_FROM: instant.optional(),
    SIMULATOR_RESPECT_MARKET_HOURS: env.boolean().default(false),
    SIMULATOR_BATCH_INTERVAL_MS: z.coerce.number().int().min(1).max(1000).default(25),
    SIMULATOR_MAX_EVENTS_PER_FRAME: z.coerce.number().int().min(1).max(100_000).default(1000),
    SIMULATOR_AUTH_TIMEOUT_SECONDS: env.secondsAsMs().default(10_000),
    SIMULATOR_MAX_BUFFERED_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .default(16 * 1024 * 1024),
    /** Test hook: drop every WebSocket connection this many seconds after it opened. */
    SIMULATOR_DROP_CONNECTIONS_AFTER_SECONDS: env.secondsAsMs().optional(),
    /** Unset: unlimited. */
    SIMULATOR_REST_REQUESTS_PER_MINUTE: env.positiveInt().optional(),
    SIMULATOR_REST_RATE_WINDOW_SECONDS: env.secondsAsMs().default(60_000),
    /** Test hook: the first N REST requests fail with 503. */
    SIMULATOR_REST_FAILURES: count().default(0),
    /** The /admin/ test hooks. */
    SIMULATOR_ADMIN: env.boolean().default(true),
    SIMULATOR_REPLAY_FILE: env.string().optional(),
    /** 0: as fast as the client reads. */
    SIMULATOR_REPLAY_FRAMES_PER_SECOND: z.coerce.number().min(0).max(1_000_000).default(10),
    SIMULATOR_REPLAY_LOOP: env.boolean().default(false),
  })
  .extend(opsEnv.shape);

export type SimulatorConfig = z.infer<typeof simulatorEnv>;

/** Flags and the variable each one sets; `true` marks flags without a value. */
const FLAGS: Readonly<Record<string, { variable: keyof SimulatorConfig; switch?: true }>> = {
  '--port': { variable: 'SIMULATOR_PORT' },
  '--host': { variable: 'SIMULATOR_HOST' },
  '--symbols': { variable: 'SYMBOLS' },
  '--seed': { variable: 'SIMULATOR_SEED' },
  '--rate': { variable: 'SIMULATOR_QUOTES_PER_SECOND' },
  '--history-rate': { variable: 'SIMULATOR_HISTORY_QUOTES_PER_MINUTE' },
  '--respect-market-hours': { variable: 'SIMULATOR_RESPECT_MARKET_HOURS', switch: true },
  '--drop-after': { variable: 'SIMULATOR_DROP_CONNECTIONS_AFTER_SECONDS' },
  '--rest-rpm': { variable: 'SIMULATOR_REST_REQUESTS_PER_MINUTE' },
  '--replay': { variable: 'SIMULATOR_REPLAY_FILE' },
  '--replay-fps': { variable: 'SIMULATOR_REPLAY_FRAMES_PER_SECOND' },
  '--replay-loop': { variable: 'SIMULATOR_REPLAY_LOOP', switch: true },
};

export const SIMULATE_USAGE = `Usage: market-pipeline simulate [options]

A Polygon.io-compatible forex feed: WebSocket ws://HOST:PORT/forex and REST
http://HOST:PORT/v2/aggs/ticker/C:EURUSD/range/1/minute/FROM/TO on one port.

Options (each sets the environment variable shown; flags win over the environment):
  --port N                 SIMULATOR_PORT (8765)
  --host ADDR              SIMULATOR_HOST (0.0.0.0)
  --symbols A/B,C/D        SYMBOLS (${DEFAULT_SYMBOLS.join(',')})
  --seed N                 SIMULATOR_SEED (42)
  --rate N                 SIMULATOR_QUOTES_PER_SECOND, per symbol (4)
  --history-rate N         SIMULATOR_HISTORY_QUOTES_PER_MINUTE, REST history density (4)
  --respect-market-hours   SIMULATOR_RESPECT_MARKET_HOURS: no live quotes while forex is closed
  --drop-after SECONDS     SIMULATOR_DROP_CONNECTIONS_AFTER_SECONDS (test hook)
  --rest-rpm N             SIMULATOR_REST_REQUESTS_PER_MINUTE (unlimited)
  --replay FILE            SIMULATOR_REPLAY_FILE: send FILE's lines as frames instead of quotes
  --replay-fps N           SIMULATOR_REPLAY_FRAMES_PER_SECOND (10; 0 = as fast as possible)
  --replay-loop            SIMULATOR_REPLAY_LOOP
The API key accepted is POLYGON_API_KEY (default '${DEMO_API_KEY}'). Other variables:
SIMULATOR_LIVE_FROM, SIMULATOR_BATCH_INTERVAL_MS, SIMULATOR_MAX_EVENTS_PER_FRAME,
SIMULATOR_AUTH_TIMEOUT_SECONDS, SIMULATOR_MAX_BUFFERED_BYTES, SIMULATOR_REST_RATE_WINDOW_SECONDS,
SIMULATOR_REST_FAILURES, SIMULATOR_ADMIN, METRICS_PORT, LOG_LEVEL (see workloads/src/simulator/README.md).`;

/** Turns flags into variable assignments (`--port 9000` or `--port=9000`). */
export function flagsToEnv(args: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const flag = FLAGS[name];
    if (!flag) throw new UsageError(`unknown option '${arg}'`);
    let value: string | undefined;
    if (flag.switch) value = eq > 0 ? arg.slice(eq + 1) : 'true';
    else if (eq > 0) value = arg.slice(eq + 1);
    else value = args[++i];
    if (value === undefined) throw new UsageError(`option '${name}' needs a value`);
    out[flag.variable] = value;
  }
  return out;
}

/** Start of the UTC day of `nowMs`. */
function utcDayStart(nowMs: number): number {
  return Math.floor(nowMs / 86_400_000) * 86_400_000;
}

export function simulatorOptions(
  config: SimulatorConfig,
  replayFrames: readonly string[] | undefined,
  nowMs = Date.now(),
): SimulatorOptions {
  return {
    port: config.SIMULATOR_PORT,
    host: config.SIMULATOR_HOST,
    apiKey: config.POLYGON_API_KEY,
    symbols: config.SYMBOLS,
    seed: config.SIMULATOR_SEED,
    quotesPerSecond: config.SIMULATOR_QUOTES_PER_SECOND,
    historyQuotesPerMinute: config.SIMULATOR_HISTORY_QUOTES_PER_MINUTE,
    liveFromMs: config.SIMULATOR_LIVE_FROM ?? utcDayStart(nowMs),
    respectMarketHours: config.SIMULATOR_RESPECT_MARKET_HOURS,
    batchIntervalMs: config.SIMULATOR_BATCH_INTERVAL_MS,
    maxEventsPerFrame: config.SIMULATOR_MAX_EVENTS_PER_FRAME,
    authTimeoutMs: config.SIMULATOR_AUTH_TIMEOUT_SECONDS,
    maxBufferedBytes: config.SIMULATOR_MAX_BUFFERED_BYTES,
    connectionLifetimeMs: config.SIMULATOR_DROP_CONNECTIONS_AFTER_SECONDS,
    restRequestsPerMinute: config.SIMULATOR_REST_REQUESTS_PER_MINUTE,
    restRateWindowMs: config.SIMULATOR_REST_RATE_WINDOW_SECONDS,
    restFailures: config.SIMULATOR_REST_FAILURES,
    adminEnabled: config.SIMULATOR_ADMIN,
    replay: replayFrames && {
      frames: replayFrames,
      framesPerSecond: config.SIMULATOR_REPLAY_FRAMES_PER_SECOND,
      loop: config.SIMULATOR_REPLAY_LOOP,
    },
  };
}
