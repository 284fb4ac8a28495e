// One backfill run. First the recorded feed gaps: new events become repair tasks in the
// ledger, every task whose bars have settled is downloaded again and published as a
// feed_gap_repair (outranking the incomplete live bars), and the events are acked. Then the
// gaps in ClickHouse: per symbol and timeframe the missing bars of the scan window are
// planned into REST ranges, downloaded, and published as polygon_historical; the missing
// bars Polygon had nothing for go into the ledger of empty ranges. Credentials, plan and
// availability failures stop the run (no event acked, no coverage recorded for the series not
// finished); an answer that cannot be used fails only its series (symbol and timeframe), the
// others go on, and the run exits 1. The next run retries and finds only what is still missing.
import type { ClickHouseClient } from '@clickhouse/client';
import { reasonOf } from '../runtime/failure.js';
import type { TimeInterval } from '../contracts/market-hours.js';
import type { Bar } from '../contracts/messages.js';
import type { PipSizes } from '../contracts/symbols.js';
import { TIMEFRAME_MS, type Timeframe } from '../contracts/timeframes.js';
import type { Logger } from '../runtime/logger.js';
import { expectedBarStarts } from './expected-bars.js';
import { repairTasksOf, type FeedGapInbox } from './feed-gaps.js';
import { mergeIntervals, missingBars } from './gaps.js';
import { historicalBar, type HistoricalBarContext } from './historical-bar.js';
import {
  emptyRanges,
  pendingRepairs,
  readCoverage,
  recordEmptyRanges,
  recordRepairs,
  seriesKey,
  storedBarStarts,
  writeCoverage,
  type RepairTask,
  type Series,
} from './ledger.js';
import { PolygonResponseError, type PolygonAggregate } from './polygon-page.js';
import type { PolygonRestClient } from './polygon-rest.js';
import type { Progress } from './progress.js';
import { publishBars, type BarSink } from './publisher.js';
import { RangePlanner, inRuns, maxRequestSpanMs, unansweredIntervals, type RequestRange } from './ranges.js';
import {
  extendCoverage,
  scanWindow,
  type ExplicitWindow,
  type ScanWindow,
  type WindowSettings,
} from './scan-window.js';

export interface BackfillPlan extends WindowSettings {
  tenantId: string;
  symbols: readonly string[];
  timeframes: readonly Timeframe[];
  pipSizes: PipSizes;
  nowMs: number;
  explicit?: ExplicitWindow;
}

export interface BackfillDeps {
  ch: ClickHouseClient;
  rest: PolygonRestClient;
  sink: BarSink;
  feedGaps: FeedGapInbox;
  progress: Progress;
  log: Logger;
}

export interface BackfillSummary {
  /** Runs of consecutive missing bars, and the missing bars in them. */
  gapsFound: number;
  missingBars: number;
  /** REST ranges asked for (gaps and repairs; each may take several pages). */
  rangesRequested: number;
  /** Ranges Polygon answered without a single bar. */
  rangesEmpty: number;
  barsReceived: number;
  /** Bars published to NATS (and archived), of which `duplicates` were already in the stream. */
  barsPublished: number;
  duplicates: number;
  /** Missing bars Polygon had no bar for, now in the ledger of empty ranges. */
  barsAnsweredEmpty: number;
  feedGapEvents: number;
  feedGapEventsDeadLettered: number;
  repairsPublished: number;
  /** Repair tasks whose bars have not settled yet (kept in the ledger for a later run). */
  repairsWaiting: number;
  firstRunSeries: number;
  /** Bars Polygon sent that break the bar contract (e.g. high below open): skipped, logged. */
  barsRejected: number;
  /**
   * Series (symbol and timeframe) whose answers could not be used (misaligned or out-of-order
   * bars): skipped with the reason, the other series go on, and the run exits 1.
   */
  failedSeries: string[];
  restRequests: number;
  rateLimited: number;
  serverErrors: number;
}

export async function runBackfill(plan: BackfillPlan, deps: BackfillDeps): Promise<BackfillSummary> {
  const summary: BackfillSummary = {
    gapsFound: 0,
    missingBars: 0,
    rangesRequested: 0,
    rangesEmpty: 0,
    barsReceived: 0,
    barsPublished: 0,
    duplicates: 0,
    barsAnsweredEmpty: 0,
    feedGapEvents: 0,
    feedGapEventsDeadLettered: 0,
    repairsPublished: 0,
    repairsWaiting: 0,
    firstRunSeries: 0,
    barsRejected: 0,
    failedSeries: [],
    restRequests: 0,
    rateLimited: 0,
    serverErrors: 0,
  };
  try {
    const repaired = await repairFeedGaps(plan, deps, summary);
    await fillGaps(plan, deps, summary, repaired);
  } finally {
    Object.assign(summary, {
      restRequests: deps.rest.stats.requests,
      rateLimited: deps.rest.stats.rateLimited,
      serverErrors: deps.rest.stats.serverErrors,
      feedGapEventsDeadLettered: deps.feedGaps.deadLettered,
    });
    deps.progress.finish();
  }
  return summary;
}

/** Phase 1: repairs of recorded feed gaps. Returns what was repaired, per series key. */
async function repairFeedGaps(
  plan: BackfillPlan,
  deps: BackfillDeps,
  summary: BackfillSummary,
): Promise<Map<string, TimeInterval[]>> {
  const repaired = new Map<string, TimeInterval[]>();
  try {
    const events = await deps.feedGaps.receive();
    summary.feedGapEvents = events.length;
    const tasks = events.flatMap((e) => repairTasksOf(e.gap, plan.tenantId, plan.symbols, plan.timeframes));
    // Durable before anything else: from here on the repair survives a crash of this run.
    await recordRepairs(deps.ch, tasks, false);

    const cutoff = plan.nowMs - plan.settleMs;
    const pending = (await pendingRepairs(deps.ch, plan.tenantId)).filter(
      (t) => plan.symbols.includes(t.symbol) && plan.timeframes.includes(t.timeframe),
    );
    const due = pending.filter((t) => t.endMs <= cutoff);
    summary.repairsWaiting = pending.length - due.length;
    const bySeries = groupBySeries(due);
    for (const [key, seriesTasks] of bySeries) {
      const series = seriesTasks[0]!;
      const intervals = mergeIntervals(seriesTasks.map((t) => ({ start: t.startMs, end: t.endMs })));
      const chunks = intervals.flatMap((i) => splitInterval(series.timeframe, i));
      deps.progress.planned('repair', series.symbol, series.timeframe, chunks.length);
      // A series that fails here keeps its tasks pending in the ledger for the next run.
      const done = await forSeries(summary, deps.log, `repair ${key}`, async () => {
        for (const chunk of chunks) await repairChunk(plan, deps, summary, series, chunk);
      });
      if (!done) continue;
      await recordRepairs(deps.ch, seriesTasks, true);
      summary.repairsPublished += seriesTasks.length;
      repaired.set(key, intervals);
    }
    // Every event's repair is now published or pending in the ledger.
    await deps.feedGaps.ackAll();
  } catch (error) {
    deps.feedGaps.release();
    throw error;
  }
  return repaired;
}

async function repairChunk(
  plan: BackfillPlan,
  deps: BackfillDeps,
  summary: BackfillSummary,
  series: Series,
  chunk: TimeInterval,
): Promise<void> {
  const lastStart = chunk.end - TIMEFRAME_MS[series.timeframe];
  const { bars, pages } = await deps.rest.aggregates(series.symbol, series.timeframe, chunk.start, lastStart);
  summary.rangesRequested++;
  if (bars.length === 0) summary.rangesEmpty++;
  summary.barsReceived += bars.length;
  const repairs = toBars(
    bars,
    { ...series, pipSizes: plan.pipSizes, downloadedAt: new Date(), feedGapRepair: true },
    deps.log,
    summary,
  );
  const counts = await publishBars(deps.sink, repairs);
  summary.barsPublished += counts.published;
  summary.duplicates += counts.duplicates;
  deps.progress.rangeDone({
    phase: 'repair',
    symbol: series.symbol,
    timeframe: series.timeframe,
    fromMs: chunk.start,
    toMs: lastStart,
    pages,
    barsReceived: bars.length,
    barsPublished: counts.published,
    barsEmpty: 0,
  });
}

interface PlannedSeries {
  series: Series;
  window: ScanWindow;
  ranges: RequestRange[];
}

/** Phase 2: the gaps in ClickHouse. All series are planned first, so progress shows the whole run. */
async function fillGaps(
  plan: BackfillPlan,
  deps: BackfillDeps,
  summary: BackfillSummary,
  repaired: Map<string, TimeInterval[]>,
): Promise<void> {
  const coverage = await readCoverage(deps.ch, plan.tenantId);
  const planned: PlannedSeries[] = [];
  for (const symbol of plan.symbols) {
    for (const timeframe of plan.timeframes) {
      const series: Series = { tenantId: plan.tenantId, symbol, timeframe };
      const key = seriesKey(symbol, timeframe);
      const window = scanWindow(timeframe, plan.nowMs, plan, coverage.get(key), plan.explicit);
      if (window.firstRun) summary.firstRunSeries++;
      const planner = new RangePlanner(timeframe);
      if (window.start < window.end) {
        // Bars repaired a moment ago may not have reached ClickHouse yet: not gaps.
        const excluded = mergeIntervals([
          ...(await emptyRanges(deps.ch, series, window.start, window.end)),
          ...(repaired.get(key) ?? []),
        ]);
        const expected = expectedBarStarts(timeframe, window.start, window.end);
        const stored = storedBarStarts(deps.ch, series, window.start, window.end);
        for await (const bar of missingBars(expected, stored, excluded)) planner.add(bar);
      }
      summary.gapsFound += planner.gaps;
      summary.missingBars += planner.missingBars;
      deps.progress.planned('gaps', symbol, timeframe, planner.ranges.length);
      planned.push({ series, window, ranges: planner.ranges });
    }
  }
  deps.log.info(
    {
      gapsFound: summary.gapsFound,
      missingBars: summary.missingBars,
      ranges: planned.reduce((n, p) => n + p.ranges.length, 0),
    },
    'gaps planned',
  );

  for (const { series, window, ranges } of planned) {
    const key = seriesKey(series.symbol, series.timeframe);
    const done = await forSeries(summary, deps.log, key, async () => {
      for (const range of ranges) await fillRange(plan, deps, summary, series, range);
    });
    if (done && !window.explicit && window.start < window.end) {
      await writeCoverage(deps.ch, series, extendCoverage(coverage.get(key), window));
    }
  }
}

async function fillRange(
  plan: BackfillPlan,
  deps: BackfillDeps,
  summary: BackfillSummary,
  series: Series,
  range: RequestRange,
): Promise<void> {
  const { bars, pages } = await deps.rest.aggregates(
    series.symbol,
    series.timeframe,
    range.fromMs,
    range.toMs,
  );
  summary.rangesRequested++;
  if (bars.length === 0) summary.rangesEmpty++;
  summary.barsReceived += bars.length;
  const downloadedAt = new Date();
  // Only the bars that were missing: a range may span stored bars (ranges.ts), which stay as they are.
  const fills = toBars(
    bars.filter((agg) => inRuns(range.runs, agg.t)),
    { ...series, pipSizes: plan.pipSizes, downloadedAt, feedGapRepair: false },
    deps.log,
    summary,
  );
  const counts = await publishBars(deps.sink, fills);
  summary.barsPublished += counts.published;
  summary.duplicates += counts.duplicates;
  // A rejected bar counts as not answered: recorded as empty, so it is not asked for again and again.
  const unanswered = unansweredIntervals(
    series.timeframe,
    range.runs,
    new Set(fills.map((b) => b.timestamp_ms)),
  );
  await recordEmptyRanges(deps.ch, series, unanswered, downloadedAt);
  const barsEmpty = unanswered.reduce(
    (n, i) => n + [...expectedBarStarts(series.timeframe, i.start, i.end)].length,
    0,
  );
  summary.barsAnsweredEmpty += barsEmpty;
  deps.progress.rangeDone({
    phase: 'gaps',
    symbol: series.symbol,
    timeframe: series.timeframe,
    fromMs: range.fromMs,
    toMs: range.toMs,
    pages,
    barsReceived: bars.length,
    barsPublished: counts.published,
    barsEmpty,
  });
}

/** Polygon aggregates as bar messages; one that breaks the bar contract is logged and skipped. */
function toBars(
  aggregates: readonly PolygonAggregate[],
  context: HistoricalBarContext,
  log: Logger,
  summary: BackfillSummary,
): Bar[] {
  const bars: Bar[] = [];
  for (const agg of aggregates) {
    try {
      bars.push(historicalBar(agg, context));
    } catch (error) {
      summary.barsRejected++;
      log.warn(
        { symbol: context.symbol, timeframe: context.timeframe, bar: agg, reason: reasonOf(error) },
        'Polygon bar breaks the bar contract: skipped',
      );
    }
  }
  return bars;
}

/**
 * Runs the work of one series. An answer that cannot be used (PolygonResponseError) fails
 * only this series: recorded in the summary, false returned. Anything else stops the run.
 */
async function forSeries(
  summary: BackfillSummary,
  log: Logger,
  name: string,
  work: () => Promise<void>,
): Promise<boolean> {
  try {
    await work();
    return true;
  } catch (error) {
    if (!(error instanceof PolygonResponseError)) throw error;
    summary.failedSeries.push(`${name}: ${error.message}`);
    log.error({ series: name, reason: error.message }, 'series skipped: Polygon answer unusable');
    return false;
  }
}

function groupBySeries(tasks: readonly RepairTask[]): Map<string, RepairTask[]> {
  const groups = new Map<string, RepairTask[]>();
  for (const task of tasks) {
    const key = seriesKey(task.symbol, task.timeframe);
    const group = groups.get(key);
    if (group) group.push(task);
    else groups.set(key, [task]);
  }
  return groups;
}

/** [start, end) of bars cut into request-sized pieces (ranges.ts maxRequestSpanMs). */
export function splitInterval(timeframe: Timeframe, interval: TimeInterval): TimeInterval[] {
  const size = TIMEFRAME_MS[timeframe];
  const step = Math.max(size, Math.floor(maxRequestSpanMs(timeframe) / size) * size);
  const pieces: TimeInterval[] = [];
  for (let start = interval.start; start < interval.end; start += step) {
    pieces.push({ start, end: Math.min(interval.end, start + step) });
  }
  return pieces;
}
