// Observes when ticks become visible in market_ticks: polls for new rows every POLL_MS and
// stamps each with the time it was first seen. A tick's latency is that time minus its
// quote time (Polygon `t`, the simulator's grid time, at most one simulator batch interval
// before the quote is sent). Seen on a poll, not at commit: the figure is an upper bound
// by up to one poll interval plus the query.
import type pg from 'pg';
import { sleep } from './processes.js';

const POLL_MS = 10;
/** Rows are read again this far behind the newest seen, for ticks committed slightly out of order. */
const OVERLAP_MS = 50;

export interface LatencyResult {
  /** Latency of every tick with a quote time in the window that was seen (ms). */
  latencies: number[];
  /** Ticks in the window found only by the final count, not by the poller. */
  unobserved: number;
  /** Ticks with a quote time in the window, per the table at the end. */
  stored: number;
}

export class LatencyProbe {
  /** Ticks seen lately (quote time by key), to recognise them when the overlap reads them again. */
  private readonly recent = new Map<string, number>();
  private readonly latencies: number[] = [];
  private running = false;
  private loop: Promise<void> | undefined;
  private newest = 0;

  constructor(
    private readonly pool: pg.Pool,
    private readonly windowStartMs: number,
    private readonly windowEndMs: number,
  ) {}

  start(): void {
    this.running = true;
    this.newest = this.windowStartMs;
    this.loop = this.poll();
  }

  /** Stops once every tick of the window could have arrived (or at `deadlineMs`); returns the figures. */
  async finish(deadlineMs: number): Promise<LatencyResult> {
    while (Date.now() < deadlineMs && this.newest < this.windowEndMs - 1) await sleep(50);
    // A little longer for the last batch, then stop.
    await sleep(Math.min(1000, Math.max(0, deadlineMs - Date.now())));
    this.running = false;
    await this.loop;
    const latencies = this.latencies;
    const r = await this.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM market_ticks WHERE time >= $1 AND time < $2`,
      [new Date(this.windowStartMs), new Date(this.windowEndMs)],
    );
    const stored = r.rows[0]!.n;
    return { latencies, unobserved: stored - latencies.length, stored };
  }

  private async poll(): Promise<void> {
    while (this.running) {
      const since = new Date(this.newest - OVERLAP_MS);
      const r = await this.pool.query<{ ms: string; symbol: string; bid: number; ask: number }>(
        `SELECT timestamp_ms AS ms, symbol, bid, ask FROM market_ticks
          WHERE tenant_id = 'system' AND time >= $1 ORDER BY time`,
        [since],
      );
      const now = Date.now();
      for (const row of r.rows) {
        const key = `${row.ms}|${row.symbol}|${row.bid}|${row.ask}`;
        if (this.recent.has(key)) continue;
        const ms = Number(row.ms);
        this.recent.set(key, ms);
        if (ms >= this.windowStartMs && ms < this.windowEndMs) this.latencies.push(now - ms);
        if (ms > this.newest) this.newest = ms;
      }
      // Forget what the overlap can no longer return (insertion order is about time order).
      const cutoff = this.newest - 4 * OVERLAP_MS;
      for (const [key, ms] of this.recent) {
        if (ms >= cutoff) break;
        this.recent.delete(key);
      }
      await sleep(POLL_MS);
    }
  }
}
