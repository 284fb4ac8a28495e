// One aggregator run: for each chunk of the windows, let the database compute the bars,
// archive the new bar versions to Kafka, publish every bar to NATS, and count.
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type pg from 'pg';
import type { PipSizes } from '../contracts/symbols.js';
import type { Logger } from '../runtime/logger.js';
import { buildBar, sendBars, type BarArchive } from './bar-message.js';
import { asStep } from '../runtime/failure.js';
import { queryBars, type BarRow } from './bar-query.js';
import { publishedBarIds } from './published-bar-ids.js';
import type { PipelineNames } from '../contracts/subjects.js';
import type { Timeframe } from '../contracts/timeframes.js';
import { scanChunks, type BarWindow } from './window.js';

export interface AggregationInput {
  windows: BarWindow[];
  tenantId: string;
  symbols: readonly string[];
  pipSizes: PipSizes;
  /**
   * True for a bar whose window is not wholly covered and committed (coverage.ts): it is
   * published marked partial. Unset: every bar is complete (no coverage known).
   */
  isPartial?: (bar: BarRow) => boolean;
}

export interface AggregationDeps {
  pool: pg.Pool;
  js: JetStreamClient;
  jsm: JetStreamManager;
  /** Set when Kafka archiving is on. */
  archive?: BarArchive;
  /** The pipeline's streams, subjects and id scope. */
  names: PipelineNames;
  log: Logger;
  /** Aborted on SIGTERM: the run stops between chunks. */
  signal?: AbortSignal;
  /** Wall clock for ingested_at (the bar version); not the --now override. */
  clock?: () => Date;
}

export interface AggregationSummary {
  bars: number;
  barsBySymbol: Record<string, number>;
  /** Of `bars`, those published marked partial. */
  partial: number;
  /** Which bars were partial (timeframe and start; any symbol). */
  partialBars?: { timeframe: Timeframe; startMs: number }[];
  /** Bars the NATS server confirmed, duplicates included. */
  published: number;
  /** Of those, bars the server already had (same message id within its window). */
  duplicates: number;
  /** Bars sent to Kafka; undefined when archiving is off. */
  archived?: number;
  /** Bar versions not archived because an earlier run already did. */
  alreadyArchived?: number;
  chunks: number;
  queryMs: number;
}

export async function runAggregation(
  input: AggregationInput,
  deps: AggregationDeps,
): Promise<AggregationSummary> {
  const clock = deps.clock ?? (() => new Date());
  const summary: AggregationSummary = {
    bars: 0,
    barsBySymbol: {},
    partial: 0,
    published: 0,
    duplicates: 0,
    chunks: 0,
    queryMs: 0,
  };
  const chunks = scanChunks(input.windows);
  if (chunks.length === 0) return summary;

  let archivedIds: Set<string> | undefined;
  if (deps.archive) {
    summary.archived = 0;
    summary.alreadyArchived = 0;
    const timeframes = [...new Set(input.windows.map((w) => w.timeframe))];
    const since = Math.min(...chunks.map((c) => c.start));
    archivedIds = await asStep('reading bar ids back from NATS', () =>
      publishedBarIds(deps.js, deps.jsm, deps.names, timeframes, since),
    );
  }

  for (const chunk of chunks) {
    if (deps.signal?.aborted) throw new Error('interrupted by a shutdown signal');
    const started = performance.now();
    const rows = await asStep('PostgreSQL query of market_ticks', () =>
      queryBars(deps.pool, { tenantId: input.tenantId, symbols: input.symbols, chunk }),
    );
    const queryMs = performance.now() - started;
    summary.queryMs += queryMs;
    summary.chunks++;

    const builtAt = clock();
    const bars = rows.map((row) =>
      buildBar(row, input.pipSizes, builtAt, input.tenantId, input.isPartial?.(row) ?? false),
    );
    for (const bar of bars) {
      if (!bar.partial) continue;
      summary.partial++;
      const seen = (summary.partialBars ??= []);
      if (!seen.some((p) => p.timeframe === bar.timeframe && p.startMs === bar.timestamp_ms))
        seen.push({ timeframe: bar.timeframe, startMs: bar.timestamp_ms });
    }

    // Kafka first: a bar version in the stream must be in the archive as well (see
    // published-bar-ids.ts). A failure there leaves NATS untouched for this chunk.
    const result = await sendBars(deps.js, deps.archive, bars, deps.names, archivedIds);
    if (deps.archive) {
      summary.archived! += result.archived;
      summary.alreadyArchived! += result.alreadyArchived;
    }
    summary.published += result.published;
    summary.duplicates += result.duplicates;
    summary.bars += bars.length;
    for (const bar of bars) summary.barsBySymbol[bar.symbol] = (summary.barsBySymbol[bar.symbol] ?? 0) + 1;

    deps.log.debug(
      {
        chunk: { start: new Date(chunk.start).toISOString(), end: new Date(chunk.end).toISOString() },
        bars: bars.length,
        queryMs: Math.round(queryMs),
      },
      'chunk aggregated',
    );
  }
  return summary;
}
