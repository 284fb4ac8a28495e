// Uncovered seconds per symbol, for the bridge's /metrics: the forex-hours seconds of the
// last 24 hours that no committed coverage row holds (feed_coverage and the bridge-ticks ack
// floor, the same rule the aggregator applies: aggregator/coverage.ts). Computed every minute
// from PostgreSQL, so every replica reports the same value. The last minute is left out:
// coverage arrives a few seconds behind the quotes, and that is no gap.
import type { JetStreamManager } from '@nats-io/jetstream';
import type pg from 'pg';
import { Gauge, type Registry } from 'prom-client';
import { RunCoverage, tickAckFloor } from '../aggregator/coverage.js';
import type { PipelineNames } from '../contracts/subjects.js';
import type { Logger } from '../runtime/logger.js';

const WINDOW_MS = 24 * 3600_000;
const SETTLE_MS = 60_000;
export const COVERAGE_METRICS_INTERVAL_MS = 60_000;

export function startCoverageMetrics(o: {
  pool: pg.Pool;
  jsm: JetStreamManager;
  names: PipelineNames;
  registry: Registry;
  log: Logger;
  /** Wall clock (ms); tests set it to a fixed instant. */
  now?: () => number;
}): () => void {
  const clock = o.now ?? Date.now;
  const gauge = new Gauge({
    name: 'market_pipeline_uncovered_seconds',
    help: 'Seconds of forex hours in the last 24 h that the collector did not cover or the bridge has not committed, per symbol',
    labelNames: ['symbol'],
    registers: [o.registry],
  });
  let running: Promise<void> | undefined;
  const refresh = () => {
    running ??= (async () => {
      const now = clock();
      const { rows } = await o.pool.query<{
        symbols: string[];
        from_ms: number;
        to_ms: number;
        tick_seq: number;
      }>(
        `SELECT symbols, from_ms::float8 AS from_ms, to_ms::float8 AS to_ms, tick_seq::float8 AS tick_seq
           FROM feed_coverage WHERE tenant_id = $1 AND to_ms >= $2`,
        [o.names.tenantId, now - WINDOW_MS],
      );
      const coverage = new RunCoverage(
        rows.map((r) => ({ symbols: r.symbols, fromMs: r.from_ms, toMs: r.to_ms, tickSeq: r.tick_seq })),
        await tickAckFloor(o.jsm, o.names),
        'forex',
      );
      for (const symbol of new Set(rows.flatMap((r) => r.symbols))) {
        gauge.set({ symbol }, coverage.uncoveredMs(symbol, now - WINDOW_MS, now - SETTLE_MS) / 1000);
      }
    })()
      .catch((error: Error) => o.log.debug({ err: error.message }, 'uncovered seconds not computed'))
      .finally(() => (running = undefined));
  };
  refresh();
  const timer = setInterval(refresh, COVERAGE_METRICS_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
