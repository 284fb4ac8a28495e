// ClickHouse reads and writes of the backfill: the stored bar starts (gap detection reads
// `aggregates`, never writes it) and the backfill's own ledger tables
// (schemas/clickhouse/003_backfill_ledger.sql), which it writes directly.
import type { ClickHouseClient } from '@clickhouse/client';
import { clickhouseDateTime64 } from '../bridge/rows.js';
import type { TimeInterval } from '../contracts/market-hours.js';
import type { Timeframe } from '../contracts/timeframes.js';
import { mergeIntervals } from './gaps.js';

export interface Series {
  tenantId: string;
  symbol: string;
  timeframe: Timeframe;
}

/**
 * Starts of the complete bars stored for one series with a start in [fromMs, toMs),
 * ascending: one query on the table's sorting key, streamed (a 2-year 5m window is ~150k
 * rows). Any source counts; a bar stored only as partial does not; duplicates before merges
 * are grouped.
 */
export async function* storedBarStarts(
  ch: ClickHouseClient,
  s: Series,
  fromMs: number,
  toMs: number,
): AsyncGenerator<number> {
  const result = await ch.query({
    // A bar stored only as partial (rank 0, version < 10^15: messages.ts BAR_RANK) counts as
    // missing: its window was not wholly covered, so Polygon's bar replaces it (rank 1).
    query: `SELECT timestamp_ms FROM aggregates
            WHERE tenant_id = {tenant:String} AND symbol = {symbol:String} AND timeframe = {timeframe:String}
              AND timestamp >= {from:DateTime64(3, 'UTC')} AND timestamp < {to:DateTime64(3, 'UTC')}
            GROUP BY timestamp_ms
            HAVING max(version) >= 1000000000000000
            ORDER BY timestamp_ms`,
    query_params: { ...seriesParams(s), from: clickhouseDateTime64(fromMs), to: clickhouseDateTime64(toMs) },
    format: 'TabSeparated',
  });
  for await (const rows of result.stream()) {
    for (const row of rows) yield Number(row.text);
  }
}

/** The ranges Polygon answered empty that overlap [fromMs, toMs), merged. */
export async function emptyRanges(
  ch: ClickHouseClient,
  s: Series,
  fromMs: number,
  toMs: number,
): Promise<TimeInterval[]> {
  const rows = await select<{ start_ms: string; end_ms: string }>(
    ch,
    `SELECT DISTINCT start_ms, end_ms FROM backfill_empty_ranges
     WHERE tenant_id = {tenant:String} AND symbol = {symbol:String} AND timeframe = {timeframe:String}
       AND end_ms > {from:UInt64} AND start_ms < {to:UInt64}`,
    { ...seriesParams(s), from: fromMs, to: toMs },
  );
  return mergeIntervals(rows.map((r) => ({ start: Number(r.start_ms), end: Number(r.end_ms) })));
}

export async function recordEmptyRanges(
  ch: ClickHouseClient,
  s: Series,
  intervals: readonly TimeInterval[],
  checkedAt: Date,
): Promise<void> {
  if (intervals.length === 0) return;
  await ch.insert({
    table: 'backfill_empty_ranges',
    format: 'JSONEachRow',
    values: intervals.map((i) => ({
      ...seriesRow(s),
      start_ms: i.start,
      end_ms: i.end,
      checked_at: clickhouseDateTime64(checkedAt.getTime()),
    })),
  });
}

/** [fromMs, toMs) of bar starts that completed default-window runs have checked. */
export type Coverage = TimeInterval;

/** Coverage of every series of the tenant, keyed by seriesKey(symbol, timeframe). */
export async function readCoverage(ch: ClickHouseClient, tenantId: string): Promise<Map<string, Coverage>> {
  const rows = await select<{ symbol: string; timeframe: string; from_ms: string; to_ms: string }>(
    ch,
    `SELECT symbol, timeframe, argMax(from_ms, updated_at) AS from_ms, argMax(to_ms, updated_at) AS to_ms
     FROM backfill_coverage WHERE tenant_id = {tenant:String} GROUP BY symbol, timeframe`,
    { tenant: tenantId },
  );
  return new Map(
    rows.map((r) => [seriesKey(r.symbol, r.timeframe), { start: Number(r.from_ms), end: Number(r.to_ms) }]),
  );
}

export async function writeCoverage(ch: ClickHouseClient, s: Series, coverage: Coverage): Promise<void> {
  await ch.insert({
    table: 'backfill_coverage',
    format: 'JSONEachRow',
    values: [
      {
        ...seriesRow(s),
        from_ms: coverage.start,
        to_ms: coverage.end,
        updated_at: clickhouseDateTime64(Date.now()),
      },
    ],
  });
}

export function seriesKey(symbol: string, timeframe: string): string {
  return `${symbol} ${timeframe}`;
}

/** One timeframe of one symbol of a recorded feed gap: the bars [startMs, endMs) to repair. */
export interface RepairTask extends Series {
  gapId: string;
  kind: string;
  startMs: number;
  endMs: number;
  detectedAt: string;
}

/** Records repair tasks as pending (done = 0) or published (done = 1). */
export async function recordRepairs(
  ch: ClickHouseClient,
  tasks: readonly RepairTask[],
  done: boolean,
): Promise<void> {
  if (tasks.length === 0) return;
  const now = clickhouseDateTime64(Date.now());
  await ch.insert({
    table: 'backfill_feed_gap_repairs',
    format: 'JSONEachRow',
    values: tasks.map((t) => ({
      ...seriesRow(t),
      gap_id: t.gapId,
      kind: t.kind,
      start_ms: t.startMs,
      end_ms: t.endMs,
      detected_at: clickhouseDateTime64(Date.parse(t.detectedAt)),
      done: done ? 1 : 0,
      updated_at: now,
    })),
  });
}

/** Repair tasks of the tenant not yet published (max(done) = 0 over their rows). */
export async function pendingRepairs(ch: ClickHouseClient, tenantId: string): Promise<RepairTask[]> {
  const rows = await select<{
    symbol: string;
    timeframe: Timeframe;
    gap_id: string;
    kind: string;
    start_ms: string;
    end_ms: string;
    detected_ms: string;
  }>(
    ch,
    `SELECT symbol, timeframe, gap_id, any(kind) AS kind, min(start_ms) AS start_ms, max(end_ms) AS end_ms,
            toUnixTimestamp64Milli(min(detected_at)) AS detected_ms
     FROM backfill_feed_gap_repairs
     WHERE tenant_id = {tenant:String}
     GROUP BY symbol, timeframe, gap_id
     HAVING max(done) = 0
     ORDER BY symbol, timeframe, start_ms`,
    { tenant: tenantId },
  );
  return rows.map((r) => ({
    tenantId,
    symbol: r.symbol,
    timeframe: r.timeframe,
    gapId: r.gap_id,
    kind: r.kind,
    startMs: Number(r.start_ms),
    endMs: Number(r.end_ms),
    detectedAt: new Date(Number(r.detected_ms)).toISOString(),
  }));
}

function seriesParams(s: Series) {
  return { tenant: s.tenantId, symbol: s.symbol, timeframe: s.timeframe };
}

function seriesRow(s: Series) {
  return { tenant_id: s.tenantId, symbol: s.symbol, timeframe: s.timeframe };
}

async function select<T>(ch: ClickHouseClient, query: string, params: Record<string, unknown>): Promise<T[]> {
  const result = await ch.query({ query, query_params: params, format: 'JSONEachRow' });
  return result.json<T>();
}
