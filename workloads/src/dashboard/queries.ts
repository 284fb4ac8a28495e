// What the dashboard shows, read from the two databases the pipeline writes (and, when
// configured, the latest quotes and bars from the cache: cache/reader.ts).
import type { ClickHouseClient } from '@clickhouse/client';
import type pg from 'pg';

export interface TickStats {
  symbol: string;
  ticks: number;
  lastTickMs: number;
}

export interface LatestBar {
  symbol: string;
  timeframe: string;
  timestampMs: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  source: string;
}

/** The latest quote of a symbol (from the latest-quote cache). */
export interface LatestQuote {
  symbol: string;
  bid: number;
  ask: number;
  spread: number;
  timestampMs: number;
}

export async function tickStats(pool: pg.Pool, tenantId: string): Promise<TickStats[]> {
  const { rows } = await pool.query<{ symbol: string; ticks: string; last_ms: string }>(
    `SELECT symbol, count(*) AS ticks, max(timestamp_ms) AS last_ms
       FROM market_ticks WHERE tenant_id = $1 GROUP BY symbol ORDER BY symbol`,
    [tenantId],
  );
  return rows.map((r) => ({ symbol: r.symbol, ticks: Number(r.ticks), lastTickMs: Number(r.last_ms) }));
}

/** The newest bar of each symbol for the given timeframes (FINAL: one row per bar). */
export async function latestBars(
  ch: ClickHouseClient,
  tenantId: string,
  timeframes: string[],
): Promise<LatestBar[]> {
  const result = await ch.query({
    // The rank (messages.ts BAR_RANK) says what source alone does not: partial or repair.
    query: `SELECT symbol, timeframe, timestamp_ms, open, high, low, close, volume,
                   multiIf(intDiv(version, 1000000000000000) = 0, 'partial',
                           intDiv(version, 1000000000000000) = 3, 'repair', source) AS source
              FROM aggregates FINAL
             WHERE tenant_id = {tenant:String} AND timeframe IN {timeframes:Array(String)}
             ORDER BY symbol, timeframe, timestamp_ms DESC
             LIMIT 1 BY symbol, timeframe`,
    query_params: { tenant: tenantId, timeframes },
    format: 'JSONEachRow',
  });
  const rows = await result.json<{
    symbol: string;
    timeframe: string;
    timestamp_ms: string | number;
    open: number;
    high: number;
    low: number;
    close: number;
    volume: number;
    source: string;
  }>();
  return rows.map((r) => ({ ...r, timestampMs: Number(r.timestamp_ms) }));
}
