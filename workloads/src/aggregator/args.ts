// Command-line arguments of `market-pipeline aggregate`.
import { TIMEFRAMES, timeframeSchema, type Timeframe } from '../contracts/timeframes.js';
import { parseInstant, parseSpan, readOptions, UsageError } from '../runtime/command-args.js';

export { UsageError };

export const AGGREGATE_USAGE = `Usage: market-pipeline aggregate --timeframe <tf>[,<tf>…|all] [--from <ISO> [--to <ISO>]] [--now <ISO>]

Builds OHLCV bars from the ticks in TimescaleDB and publishes them to NATS (and Kafka).
  --timeframe  one of ${TIMEFRAMES.join(', ')}; a comma-separated list or 'all' builds several in one run
  --from/--to  re-aggregate an explicit range instead of the scheduled window; from is aligned
               down and to up to bar boundaries; only closed bars are built (to defaults to now)
  --now        the clock to use instead of the system time (tests, backfills)
Without --from, the window is the bar that closed last plus AGGREGATE_LOOKBACK_BARS earlier bars.`;

export interface AggregateArgs {
  timeframes: Timeframe[];
  fromMs?: number;
  toMs?: number;
  nowMs?: number;
  help: boolean;
}

const OPTIONS = ['timeframe', 'from', 'to', 'now'] as const;

export function parseAggregateArgs(args: readonly string[]): AggregateArgs {
  const read = readOptions(args, OPTIONS);
  if (read.help) return { timeframes: [], help: true };
  const { values } = read;
  if (values.timeframe === undefined) {
    throw new UsageError(`--timeframe is required (one of ${TIMEFRAMES.join(', ')})`);
  }
  const timeframes = parseTimeframes(values.timeframe);
  const { fromMs, toMs } = parseSpan(values);
  const nowMs = values.now === undefined ? undefined : parseInstant('--now', values.now);
  return { timeframes, fromMs, toMs, nowMs, help: false };
}

function parseTimeframes(value: string): Timeframe[] {
  if (value === 'all') return [...TIMEFRAMES];
  const wanted = new Set<Timeframe>();
  for (const item of value.split(',').map((s) => s.trim())) {
    const parsed = timeframeSchema.safeParse(item);
    if (!parsed.success) {
      throw new UsageError(`unknown timeframe '${item}': expected one of ${TIMEFRAMES.join(', ')}`);
    }
    wanted.add(parsed.data);
  }
  // Canonical order, so that logs and summaries read the same whatever the spelling.
  return TIMEFRAMES.filter((tf) => wanted.has(tf));
}
