// Command-line arguments of `market-pipeline backfill`.
import { parseSpan, readOptions, UsageError } from '../runtime/command-args.js';

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
  const read = readOptions(args, ['from', 'to'] as const);
  if (read.help) return { help: true };
  return { ...parseSpan(read.values), help: false };
}
