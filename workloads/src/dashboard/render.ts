// Renders the dashboard as a compact text table (pure: easy to test and to read).
import type { LatestBar, LatestQuote, TickStats } from './queries.js';

function time(ms: number): string {
  return Number.isFinite(ms) && ms > 0 ? new Date(ms).toISOString().replace('T', ' ').slice(0, 19) : '-';
}

/** A price without binary noise (1.1091250000000001 → 1.109125). */
function price(value: number): string {
  return String(Number(value.toFixed(6)));
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

/** `quotes`: the latest quote per symbol, from the cache (undefined: no cache configured). */
export function renderDashboard(
  now: Date,
  ticks: TickStats[],
  bars: LatestBar[],
  errors: string[],
  quotes?: LatestQuote[],
): string {
  const out = [`market-pipeline  ${time(now.getTime())} UTC`, ''];
  if (quotes) {
    out.push(
      ...table(
        ['symbol', 'bid', 'ask', 'spread (pips)', 'quote time (UTC)'],
        quotes.map((q) => [
          q.symbol,
          price(q.bid),
          price(q.ask),
          String(Number(q.spread.toFixed(2))),
          time(q.timestampMs),
        ]),
      ),
    );
    if (quotes.length === 0) out.push('(no quotes in the cache yet)');
    out.push('');
  }
  out.push(
    ...table(
      ['symbol', 'ticks stored', 'last tick (UTC)'],
      ticks.map((t) => [t.symbol, t.ticks.toLocaleString('en-US'), time(t.lastTickMs)]),
    ),
  );
  if (ticks.length === 0) out.push('(no ticks yet)');
  out.push('');
  out.push(
    ...table(
      ['symbol', 'tf', 'bar start (UTC)', 'open', 'high', 'low', 'close', 'volume', 'source'],
      bars.map((b) => [
        b.symbol,
        b.timeframe,
        time(b.timestampMs),
        price(b.open),
        price(b.high),
        price(b.low),
        price(b.close),
        String(b.volume),
        b.source,
      ]),
    ),
  );
  if (bars.length === 0) out.push('(no bars yet: the first 5m bar appears after the next 5-minute boundary)');
  for (const e of errors) out.push(`! ${e}`);
  return out.join('\n');
}
