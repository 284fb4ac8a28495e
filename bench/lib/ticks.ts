// Deterministic market data for the benchmarks, in every form a path takes it: Polygon
// quote events (what the collector reads), tick messages (what it publishes, built by the
// product's own encoder), and market_ticks rows (what the bridge writes, built by the
// product's own row mapping). Product and baseline of a benchmark get the same data.
import { createWriteStream } from 'node:fs';
import type { Quote } from '../../workloads/src/collector/polygon-frames.js';
import { TickEncoder, type OutgoingTick } from '../../workloads/src/collector/quote-to-tick.js';
import { pipSizeOf } from '../../workloads/src/contracts/symbols.js';
import type { Tick } from '../../workloads/src/contracts/messages.js';
import { TICK_COLUMNS, tickRow, tickTime, type TickRow } from '../../workloads/src/bridge/rows.js';

export const SYMBOLS = [
  'EUR/USD',
  'GBP/USD',
  'USD/JPY',
  'XAU/USD',
  'AUD/USD',
  'USD/CHF',
  'USD/CAD',
  'NZD/USD',
  'EUR/GBP',
  'EUR/JPY',
] as const;

/** A plausible price level per symbol, where the generated quotes start. */
export const LEVEL: Record<string, number> = {
  'EUR/USD': 1.08,
  'GBP/USD': 1.25,
  'USD/JPY': 151.2,
  'XAU/USD': 2351.1,
  'AUD/USD': 0.66,
  'USD/CHF': 0.9,
  'USD/CAD': 1.36,
  'NZD/USD': 0.61,
  'EUR/GBP': 0.86,
  'EUR/JPY': 163.4,
};

const DAY_MS = 86_400_000;

/**
 * Midnight UTC two days ago: recent enough that the bridge's retention (90 days) never
 * deletes benchmark rows while they are counted, and in the past, so bars close.
 */
export const DATA_START_MS = Math.floor(Date.now() / DAY_MS) * DAY_MS - 2 * DAY_MS;

/**
 * `count` distinct quotes, round-robin over `symbols`, one per symbol and millisecond,
 * prices wandering on the pip grid.
 */
export function benchQuotes(count: number, symbols: readonly string[] = SYMBOLS.slice(0, 4)): Quote[] {
  const quotes: Quote[] = new Array<Quote>(count);
  for (let i = 0; i < count; i++) {
    const symbol = symbols[i % symbols.length]!;
    const pip = pipSizeOf(symbol, {});
    const step = pip / 10;
    const bid = Number(((LEVEL[symbol] ?? 1) + ((i * 7919) % 1000) * step).toFixed(6));
    quotes[i] = {
      symbol,
      bid,
      ask: Number((bid + 2 * pip).toFixed(6)),
      exchange: 48,
      timestampMs: DATA_START_MS + Math.floor(i / symbols.length),
    };
  }
  return quotes;
}

/** The quote as Polygon's forex WebSocket sends it. */
export function polygonEvent(q: Quote): string {
  return `{"ev":"C","p":"${q.symbol}","x":${q.exchange},"a":${q.ask},"b":${q.bid},"t":${q.timestampMs}}`;
}

/** Writes a simulator replay file: one frame (a JSON array of `perFrame` quotes) per line. */
export async function writeReplayFile(
  file: string,
  quotes: readonly Quote[],
  perFrame: number,
): Promise<void> {
  const out = createWriteStream(file);
  for (let i = 0; i < quotes.length; i += perFrame) {
    const line = `[${quotes
      .slice(i, i + perFrame)
      .map(polygonEvent)
      .join(',')}]\n`;
    if (!out.write(line)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) =>
    out.end((error?: Error | null) => (error ? reject(error) : resolve())),
  );
}

/** A fixed receipt time, so that the messages are the same in every round. */
export const INGESTED_AT = new Date(DATA_START_MS + DAY_MS).toISOString();

/** The tick messages the collector would publish for these quotes (subject, id, JSON). */
export function tickMessages(quotes: readonly Quote[]): OutgoingTick[] {
  const encoder = new TickEncoder({});
  return quotes.map((q) => encoder.encode(q, INGESTED_AT));
}

export function ticksOf(quotes: readonly Quote[]): Tick[] {
  const encoder = new TickEncoder({});
  return quotes.map((q) => encoder.toTick(q, INGESTED_AT));
}

/** A market_ticks row with its `time` column spelled out, as the baselines write it. */
export type TableRow = TickRow & { time: string };

export function tableRow(tick: Tick, tenantId: string): TableRow {
  const row = tickRow(tick, tenantId);
  return { ...row, time: tickTime(row) };
}

/** The rows the bridge writes for these ticks, as COPY text (tab-separated, one per line). */
export function copyText(ticks: readonly Tick[], tenantId = 'system'): string {
  const lines = new Array<string>(ticks.length);
  for (let i = 0; i < ticks.length; i++) {
    const row = tableRow(ticks[i]!, tenantId);
    lines[i] = TICK_COLUMNS.map((c) => String(row[c])).join('\t');
  }
  return `${lines.join('\n')}\n`;
}
