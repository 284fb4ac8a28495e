// Command-line arguments of `market-pipeline aggregate`.
import { TIMEFRAMES, timeframeSchema, type Timeframe } from '../contracts/timeframes.js';

export const AGGREGATE_USAGE = `Usage: market-pipeline aggregate --timeframe <tf>[,<tf>…|all] [--from <ISO> [--to <ISO>]] [--now <ISO>]

Builds OHLCV bars from the ticks in TimescaleDB and publishes them to NATS (and Kafka).
  --timeframe  one of ${TIMEFRAMES.join(', ')}; a comma-separated list or 'all' builds several in one run
  --from/--to  re-aggregate an explicit range instead of the scheduled window; from is aligned
               down and to up to bar boundaries; only closed bars are built (to defaults to now)
  --now        the clock to use instead of the system time (tests, backfills)
Without --from, the window is the bar that closed last plus AGGREGATE_LOOKBACK_BARS earlier bars.`;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface AggregateArgs {
  timeframes: Timeframe[];
  fromMs?: number;
  toMs?: number;
  nowMs?: number;
  help: boolean;
}

const OPTIONS = ['timeframe', 'from', 'to', 'now'] as const;
type Option = (typeof OPTIONS)[number];

export function parseAggregateArgs(args: readonly string[]): AggregateArgs {
  const values: Partial<Record<Option, string>> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--help' || arg === '-h') return { timeframes: [], help: true };
    const match = /^--([a-z]+)(?:=(.*))?$/.exec(arg);
    const name = match?.[1] as Option | undefined;
    if (!match || !OPTIONS.includes(name!)) throw new UsageError(`unknown argument '${arg}'`);
    const value = match[2] ?? args[++i];
    if (value === undefined || value === '') throw new UsageError(`--${name} needs a value`);
    if (values[name!] !== undefined) throw new UsageError(`--${name} given twice`);
    values[name!] = value;
  }
  if (values.timeframe === undefined) {
    throw new UsageError(`--timeframe is required (one of ${TIMEFRAMES.join(', ')})`);
  }
  const timeframes = parseTimeframes(values.timeframe);
  const fromMs = values.from === undefined ? undefined : parseInstant('--from', values.from);
  const toMs = values.to === undefined ? undefined : parseInstant('--to', values.to);
  const nowMs = values.now === undefined ? undefined : parseInstant('--now', values.now);
  if (toMs !== undefined && fromMs === undefined) throw new UsageError('--to needs --from');
  if (fromMs !== undefined && toMs !== undefined && toMs <= fromMs) {
    throw new UsageError(`--to (${values.to}) must be after --from (${values.from})`);
  }
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

// A calendar date (taken as UTC midnight) or a date-time with Z or an explicit offset: a
// date-time without a zone would be read in the machine's local time zone.
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

function parseInstant(option: string, value: string): number {
  const ms = ISO_INSTANT.test(value) && isCalendarDate(value.slice(0, 10)) ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms)) {
    throw new UsageError(
      `${option} '${value}' is not an ISO-8601 date or date-time with a zone (e.g. 2024-01-25T10:00:00Z)`,
    );
  }
  return ms;
}

/** Date.parse rolls 2024-02-30 over into March; refuse it instead. */
function isCalendarDate(ymd: string): boolean {
  const [y, m, d] = ymd.split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}
