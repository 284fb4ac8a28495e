// The latest-quote cache's keys and what orders their values (README "Latest-quote cache").
//
//   mp:<tenant>:tick:<SYMBOL>          the latest tick of a symbol       e.g. mp:acme:tick:EUR/USD
//   mp:<tenant>:bar:<SYMBOL>:<tf>      the latest bar of a timeframe     e.g. mp:acme:bar:EUR/USD:5m
//
// Each key is a hash with two fields: `r`, the rank that orders values of the key, and `v`,
// the value as JSON. A tenant id cannot contain ':' (contracts/subjects.ts), so one tenant's
// keys never collide with another's. Every write sets the TTL again (CACHE_TTL_SECONDS).
//
// Ranks are fixed-width decimal strings, compared as strings by the server (cache/client.ts STORE_IF_NEWER_LUA),
// so that a 64-bit bar version is compared exactly (a Lua number is a double):
//   tick: timestamp_ms (20 digits): a later quote wins; the first of equal timestamps stays.
//   bar:  bar start (20 digits) ':' version (20 digits): a later bar wins; for the same bar
//         the higher version, as in ClickHouse's ReplacingMergeTree(version) (barVersion).
import type { BarRow, TickRow } from '../bridge/rows.js';
import { VERSION_RANK_UNIT } from '../contracts/messages.js';

export const KEY_PREFIX = 'mp';

export function tickKey(tenantId: string, symbol: string): string {
  return `${KEY_PREFIX}:${tenantId}:tick:${symbol}`;
}

export function barKey(tenantId: string, symbol: string, timeframe: string): string {
  return `${KEY_PREFIX}:${tenantId}:bar:${symbol}:${timeframe}`;
}

const WIDTH = 20; // digits of the largest UInt64

function fixed(n: number | bigint | string): string {
  return String(n).padStart(WIDTH, '0');
}

export function tickRank(row: Pick<TickRow, 'timestamp_ms'>): string {
  return fixed(row.timestamp_ms);
}

export function barRank(row: Pick<BarRow, 'timestamp_ms' | 'version'>): string {
  return `${fixed(row.timestamp_ms)}:${fixed(row.version)}`;
}

/** The cached tick: the stored row without its source (what a consumer of "the latest quote" needs). */
export type CachedTick = Omit<TickRow, 'source'>;

/** The cached bar (times as epoch ms; version as a decimal string, a UInt64). */
export interface CachedBar {
  tenant_id: string;
  symbol: string;
  timeframe: string;
  timestamp_ms: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  vwap: number;
  source: string;
  /**
   * Built from a window not wholly covered or not yet committed (rank 0 of barVersion): the
   * latest bar may be such a one until its complete version replaces it.
   */
  partial: boolean;
  version: string;
}

export function cachedTick(r: TickRow): CachedTick {
  const { source: _source, ...tick } = r;
  return tick;
}

export function cachedBar(r: BarRow): CachedBar {
  return {
    tenant_id: r.tenant_id,
    symbol: r.symbol,
    timeframe: r.timeframe,
    timestamp_ms: r.timestamp_ms,
    open: r.open,
    high: r.high,
    low: r.low,
    close: r.close,
    volume: r.volume,
    vwap: r.vwap,
    source: r.source,
    partial: BigInt(r.version) < VERSION_RANK_UNIT,
    version: r.version,
  };
}
