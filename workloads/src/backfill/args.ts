// Command-line arguments of `market-pipeline backfill`.
import { UsageError, parseInstant } from '../aggregator/args.js';

export { UsageError };

export const BACKFILL_USAGE = `Usage: market-pipeline backfill [--from <ISO> [--to <ISO>]]

Repairs the feed gaps the collector recorded, then finds the bars missing from ClickHouse
inside forex trading hours, downloads them from Polygon REST and publishes them to NATS
(and Kafka); the bridge stores them. One run, then exit (0 success, 1 failure, 2 usage).
  --from/--to  check this span instead of the default window; --to defaults to now
Default window, per symbol and timeframe: BACKFILL_WINDOW_DAYS on the first run,
afterwards BACKFILL_RECENT_DAYS (or back to where the last completed run stopped).
Only bars that ended BACKFILL_SETTLE_MINUTES ago are checked.`;

export interface BackfillArgs {
  fromMs?: number;
  toMs?: number;
  help: boolean;
}

export function parseBackfillArgs(args: readonly string[]): BackfillArgs {
  const values: { from?: string; to?: string } = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--help' || arg === '-h') return { help: true };
    const match = /^--(from|to)(?:=(.*))?$/.exec(arg);
    if (!match) throw new UsageError(`unknown argument '${arg}'`);
    const name = match[1] as 'from' | 'to';
    const value = match[2] ?? args[++i];
    if (value === undefined || value === '') throw new UsageError(`--${name} needs a value`);
    if (values[name] !== undefined) throw new UsageError(`--${name} given twice`);
    values[name] = value;
  }
  const fromMs = values.from === undefined ? undefined : parseInstant('--from', values.from);
  const toMs = values.to === undefined ? undefined : parseInstant('--to', values.to);
  if (toMs !== undefined && fromMs === undefined) throw new UsageError('--to needs --from');
  if (fromMs !== undefined && toMs !== undefined && toMs <= fromMs) {
    throw new UsageError(`--to (${values.to}) must be after --from (${values.from})`);
  }
  return { fromMs, toMs, help: false };
}
