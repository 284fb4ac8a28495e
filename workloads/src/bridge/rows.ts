// Messages → database rows. The tick row is what a market_ticks row is made of (its
// `time` is timestamp_ms, written as a timestamptz by the writer); the bar row is one
// JSONEachRow object for ClickHouse, carrying the version that decides which write of the
// same bar wins (barVersion).
import { barVersion, type Bar, type Tick } from '../contracts/messages.js';

export interface TickRow {
  tenant_id: string;
  symbol: string;
  bid: number;
  ask: number;
  mid: number;
  spread: number;
  /** Also the row's `time`: exact to the millisecond, so a redelivery hits the same unique key. */
  timestamp_ms: number;
  exchange: number;
  source: string;
  ingested_at: string;
}

export function tickRow(tick: Tick, tenantId: string): TickRow {
  return {
    tenant_id: tenantId,
    symbol: tick.symbol,
    bid: tick.bid,
    ask: tick.ask,
    mid: tick.mid,
    spread: tick.spread,
    timestamp_ms: tick.timestamp_ms,
    exchange: tick.exchange,
    source: tick.source,
    ingested_at: tick.ingested_at,
  };
}

/** The market_ticks columns a tick row fills, in the order the writers give their values. */
export const TICK_COLUMNS = [
  'time',
  'tenant_id',
  'symbol',
  'bid',
  'ask',
  'mid',
  'spread',
  'timestamp_ms',
  'exchange',
  'source',
  'ingested_at',
] as const;

/** The row's `time` column as ISO-8601 text. */
export function tickTime(row: Pick<TickRow, 'timestamp_ms'>): string {
  return new Date(row.timestamp_ms).toISOString();
}

export interface BarRow {
  tenant_id: string;
  symbol: string;
  timeframe: string;
  /** DateTime64(3) text, UTC: the bar start. */
  timestamp: string;
  timestamp_ms: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  vwap: number;
  range_pips: number;
  body_pips: number;
  start_time: string;
  end_time: string;
  source: string;
  ingested_at: string;
  /** UInt64 as a decimal string: JSON numbers cannot carry every UInt64. */
  version: string;
}

/** 'YYYY-MM-DD hh:mm:ss.mmm' in UTC: how ClickHouse reads and prints DateTime64(3, 'UTC'). */
export function clickhouseDateTime64(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

export function barRow(bar: Bar, tenantId: string): BarRow {
  return {
    tenant_id: tenantId,
    symbol: bar.symbol,
    timeframe: bar.timeframe,
    timestamp: clickhouseDateTime64(bar.timestamp_ms),
    timestamp_ms: bar.timestamp_ms,
    open: bar.open,
    high: bar.high,
    low: bar.low,
    close: bar.close,
    volume: bar.volume,
    vwap: bar.vwap,
    range_pips: bar.range_pips,
    body_pips: bar.body_pips,
    start_time: clickhouseDateTime64(Date.parse(bar.start_time)),
    end_time: clickhouseDateTime64(Date.parse(bar.end_time)),
    source: bar.source,
    ingested_at: clickhouseDateTime64(Date.parse(bar.ingested_at)),
    version: barVersion(bar).toString(),
  };
}
