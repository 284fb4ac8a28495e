// Gap detection: the expected bars (expected-bars.ts) that are neither in ClickHouse nor in
// a range Polygon already answered empty. Both inputs arrive sorted, so one merge pass
// finds the missing bars while holding neither list in memory.
import type { TimeInterval } from '../contracts/market-hours.js';

export interface MissingBar {
  start: number;
  /** The expected bar just before this one is missing too: the same gap continues. */
  continuesGap: boolean;
}

/**
 * Missing bars in time order. `existing`: starts of the stored bars, ascending (repeats
 * allowed); `excluded`: intervals whose bars are not to be fetched, sorted and disjoint
 * (mergeIntervals).
 */
export async function* missingBars(
  expected: Iterable<number>,
  existing: AsyncIterable<number> | Iterable<number>,
  excluded: readonly TimeInterval[],
): AsyncGenerator<MissingBar> {
  const stored = (
    Symbol.asyncIterator in existing ? existing[Symbol.asyncIterator]() : toAsync(existing)
  ) as AsyncIterator<number>;
  let nextStored = await stored.next();
  let excludedAt = 0;
  let previousMissing = false;
  for (const start of expected) {
    while (!nextStored.done && nextStored.value < start) nextStored = await stored.next();
    while (excludedAt < excluded.length && excluded[excludedAt]!.end <= start) excludedAt++;
    const isStored = !nextStored.done && nextStored.value === start;
    const interval = excluded[excludedAt];
    const isExcluded = interval !== undefined && interval.start <= start;
    if (isStored || isExcluded) {
      previousMissing = false;
      continue;
    }
    yield { start, continuesGap: previousMissing };
    previousMissing = true;
  }
  await stored.return?.();
}

async function* toAsync(values: Iterable<number>): AsyncGenerator<number> {
  yield* values;
}

/** Sorted, disjoint intervals covering the same times (overlapping or touching ones joined). */
export function mergeIntervals(intervals: Iterable<TimeInterval>): TimeInterval[] {
  const sorted = [...intervals].filter((i) => i.start < i.end).sort((a, b) => a.start - b.start);
  const merged: TimeInterval[] = [];
  for (const interval of sorted) {
    const last = merged.at(-1);
    if (last && interval.start <= last.end) last.end = Math.max(last.end, interval.end);
    else merged.push({ ...interval });
  }
  return merged;
}
