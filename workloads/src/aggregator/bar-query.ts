// The aggregation itself, in one SQL statement run by the database (plain PostgreSQL >= 14
// or TimescaleDB; no TimescaleDB first()/last() needed).
//
// 1. partial: one pass over the ticks of the chunk computes, per symbol and 5-minute bucket,
//    count, sum, min and max of mid and the first and last tick time. Only plain
//    aggregates, so PostgreSQL can hash-aggregate in parallel workers (no sort of the
//    ticks, no ordered aggregates).
// 2. bar: the partials are rolled up into the bars of every requested timeframe (all
//    bucket boundaries, 1w from Monday included, are multiples of 5 minutes), so several
//    timeframes share the one scan.
// 3. open and close: two index probes per bar on the unique key (tenant_id, symbol, time,
//    bid, ask, exchange) fetch the mid of the first and last tick. Ties (several ticks in
//    the same millisecond) are ordered by time, then bid, ask, exchange: the unique key, so
//    the order is total and "first"/"last" are the same on every run. (The arrival order
//    is not stored, so no order could be more "true"; exchange only completes the order,
//    as ticks equal in bid and ask have the same mid.)
import type pg from 'pg';
import { TIMEFRAME_MS, type Timeframe } from '../contracts/timeframes.js';
import type { ScanChunk } from './window.js';
import type { Ohlcv } from '../contracts/messages.js';

// Monday 1970-01-05 00:00 UTC anchors weeks (as contracts/timeframes.ts barStart does).
const WEEK_ORIGIN = '1970-01-05T00:00:00Z';
const EPOCH_ORIGIN = '1970-01-01T00:00:00Z';

export const BAR_QUERY = `
WITH win AS (
  SELECT * FROM unnest($5::text[], $6::interval[], $7::timestamptz[], $8::timestamptz[], $9::timestamptz[])
    AS w(timeframe, stride, origin, win_start, win_end)
),
partial AS (
  SELECT symbol, date_bin('5 minutes', time, timestamptz 'epoch') AS bucket,
         count(*) AS n, sum(mid) AS total, min(mid) AS low, max(mid) AS high,
         min(time) AS first_time, max(time) AS last_time
  FROM market_ticks
  WHERE tenant_id = $1 AND symbol = ANY($2::text[]) AND time >= $3 AND time < $4
  GROUP BY 1, 2
),
bar AS (
  SELECT w.timeframe, p.symbol, date_bin(w.stride, p.bucket, w.origin) AS start,
         sum(p.n) AS n, sum(p.total) AS total, min(p.low) AS low, max(p.high) AS high,
         min(p.first_time) AS first_time, max(p.last_time) AS last_time
  FROM partial p JOIN win w ON p.bucket >= w.win_start AND p.bucket < w.win_end
  GROUP BY 1, 2, 3
)
SELECT b.timeframe, b.symbol, (extract(epoch FROM b.start) * 1000)::float8 AS start_ms,
       b.n::int AS volume, (b.total / b.n)::float8 AS vwap, b.low, b.high,
       o.mid AS open, c.mid AS close
FROM bar b
CROSS JOIN LATERAL (
  SELECT t.mid FROM market_ticks t
  WHERE t.tenant_id = $1 AND t.symbol = b.symbol AND t.time = b.first_time
  ORDER BY t.bid, t.ask, t.exchange LIMIT 1) o
CROSS JOIN LATERAL (
  SELECT t.mid FROM market_ticks t
  WHERE t.tenant_id = $1 AND t.symbol = b.symbol AND t.time = b.last_time
  ORDER BY t.bid DESC, t.ask DESC, t.exchange DESC LIMIT 1) c
ORDER BY b.timeframe, b.symbol, b.start`;

/** One bar as the database computed it: prices are mids, volume the number of ticks, vwap the mean mid (each tick weighing one). */
export type BarRow = Ohlcv;

interface RawRow {
  timeframe: Timeframe;
  symbol: string;
  start_ms: number;
  volume: number;
  vwap: number;
  low: number;
  high: number;
  open: number;
  close: number;
}

export interface BarQuery {
  tenantId: string;
  symbols: readonly string[];
  chunk: ScanChunk;
}

export function barQueryParameters(q: BarQuery): unknown[] {
  const iso = (ms: number) => new Date(ms).toISOString();
  const w = q.chunk.windows;
  return [
    q.tenantId,
    q.symbols,
    iso(q.chunk.start),
    iso(q.chunk.end),
    w.map((x) => x.timeframe),
    w.map((x) => `${TIMEFRAME_MS[x.timeframe] / 1000} seconds`),
    w.map((x) => (x.timeframe === '1w' ? WEEK_ORIGIN : EPOCH_ORIGIN)),
    w.map((x) => iso(x.start)),
    w.map((x) => iso(x.end)),
  ];
}

/** Runs the aggregation for one chunk; windows without ticks give no rows. */
export async function queryBars(pool: pg.Pool, q: BarQuery): Promise<BarRow[]> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    // Read only: the aggregator never writes the database. JIT off: compiling the
    // expressions costs 50-500 ms per query here (triggered by the row estimates) and
    // buys nothing for a query that is one hash aggregate.
    await client.query('BEGIN READ ONLY');
    await client.query('SET LOCAL jit = off');
    const result = await client.query<RawRow>(BAR_QUERY, barQueryParameters(q));
    await client.query('COMMIT');
    return result.rows.map((r) => ({
      timeframe: r.timeframe,
      symbol: r.symbol,
      startMs: r.start_ms,
      open: r.open,
      high: r.high,
      low: r.low,
      close: r.close,
      volume: r.volume,
      vwap: r.vwap,
    }));
  } catch (error) {
    // A connection that failed mid-transaction is not given back to the pool.
    broken = error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    client.release(broken);
  }
}
