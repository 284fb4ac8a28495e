// Which bars an aggregator run may publish as complete: those whose window (its part inside
// the hours that must be covered: forex hours, or always) lies wholly inside the collector's
// coverage (`feed_coverage`, written by the bridge from events.coverage) AND whose ticks are
// all committed: a coverage segment counts only up to the marker whose tick_seq the bridge's
// tick consumer has acked through (its ack floor: every message at or below it is written
// and acked). Anything else is published marked partial (rank 0: README "Coverage, watermark
// and precedence").
import type { JetStreamManager } from '@nats-io/jetstream';
import type pg from 'pg';
import { forexOpenIntervals, type TimeInterval } from '../contracts/market-hours.js';
import type { PipelineNames } from '../contracts/subjects.js';
import { barEnd } from '../contracts/timeframes.js';
import type { Timeframe } from '../contracts/timeframes.js';
import { bridgeConsumers } from '../bridge/consumers.js';
import { sleep } from '../runtime/backoff.js';

export type CoverageHours = 'forex' | 'always';

export interface CoverageSegment {
  symbols: readonly string[];
  /** Inclusive, ms. */
  fromMs: number;
  /** Inclusive, ms. */
  toMs: number;
  tickSeq: number;
}

/** The time in [fromMs, toMs) that must be covered for a bar there to be complete. */
export function requiredIntervals(hours: CoverageHours, fromMs: number, toMs: number): TimeInterval[] {
  if (!(fromMs < toMs)) return [];
  return hours === 'always' ? [{ start: fromMs, end: toMs }] : forexOpenIntervals(fromMs, toMs);
}

/** Sorted, disjoint [start, end) intervals of one symbol's committed coverage. */
export function committedCoverage(
  segments: readonly CoverageSegment[],
  symbol: string,
  ackFloor: number,
): TimeInterval[] {
  const spans = segments
    .filter((s) => s.tickSeq <= ackFloor && s.symbols.includes(symbol))
    .map((s) => ({ start: s.fromMs, end: s.toMs + 1 }))
    .sort((a, b) => a.start - b.start);
  const merged: TimeInterval[] = [];
  for (const span of spans) {
    const last = merged[merged.length - 1];
    if (last && span.start <= last.end) last.end = Math.max(last.end, span.end);
    else merged.push({ ...span });
  }
  return merged;
}

/** Milliseconds of `required` not inside `covered` (both sorted and disjoint). */
export function uncoveredMs(required: readonly TimeInterval[], covered: readonly TimeInterval[]): number {
  let missing = 0;
  for (const need of required) {
    let at = need.start;
    for (const c of covered) {
      if (c.end <= at) continue;
      if (c.start >= need.end) break;
      if (c.start > at) missing += c.start - at;
      at = Math.max(at, c.end);
      if (at >= need.end) break;
    }
    if (at < need.end) missing += need.end - at;
  }
  return missing;
}

/** The coverage an aggregator run decides with. */
export class RunCoverage {
  private readonly bySymbol = new Map<string, TimeInterval[]>();

  constructor(
    readonly segments: readonly CoverageSegment[],
    readonly ackFloor: number,
    readonly hours: CoverageHours,
  ) {}

  covered(symbol: string): TimeInterval[] {
    let c = this.bySymbol.get(symbol);
    if (!c) {
      c = committedCoverage(this.segments, symbol, this.ackFloor);
      this.bySymbol.set(symbol, c);
    }
    return c;
  }

  uncoveredMs(symbol: string, fromMs: number, toMs: number): number {
    return uncoveredMs(requiredIntervals(this.hours, fromMs, toMs), this.covered(symbol));
  }

  /** True when the bar's window is wholly covered and committed. */
  complete(symbol: string, timeframe: Timeframe, startMs: number): boolean {
    return this.uncoveredMs(symbol, startMs, barEnd(timeframe, startMs)) === 0;
  }
}

const COVERAGE_QUERY = `
SELECT symbols, from_ms::float8 AS from_ms, to_ms::float8 AS to_ms, tick_seq::float8 AS tick_seq,
       updated_at > now() - make_interval(secs => $4) AS live
  FROM feed_coverage
 WHERE tenant_id = $1 AND to_ms >= $2 AND from_ms < $3`;

export interface CoverageSource {
  pool: pg.Pool;
  jsm: JetStreamManager;
  names: PipelineNames;
  tenantId: string;
  hours: CoverageHours;
}

/** The bridge's tick consumer's ack floor: every tick at or below it is committed. */
export async function tickAckFloor(jsm: JetStreamManager, names: PipelineNames): Promise<number> {
  const { stream, durable } = bridgeConsumers(names).ticks;
  const info = await jsm.consumers.info(stream, durable).catch(() => undefined);
  return info?.ack_floor.stream_seq ?? 0;
}

/** A segment updated within this long is a live collector, worth waiting for. */
const LIVE_SECONDS = 30;

/**
 * Reads coverage and the watermark for [fromMs, toMs). While some symbol's coverage does
 * not reach `toMs` committed, and a collector is live (its coverage row moved lately), it
 * waits (polling) up to `waitMs`: at the bar boundary the markers of the last seconds are
 * still on their way. Then it decides with what it has.
 */
export async function awaitCoverage(
  source: CoverageSource,
  symbols: readonly string[],
  fromMs: number,
  toMs: number,
  waitMs: number,
  signal?: AbortSignal,
): Promise<RunCoverage> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const { rows } = await source.pool.query<{
      symbols: string[];
      from_ms: number;
      to_ms: number;
      tick_seq: number;
      live: boolean;
    }>(COVERAGE_QUERY, [source.tenantId, fromMs, toMs, LIVE_SECONDS]);
    const floor = await tickAckFloor(source.jsm, source.names);
    const coverage = new RunCoverage(
      rows.map((r) => ({ symbols: r.symbols, fromMs: r.from_ms, toMs: r.to_ms, tickSeq: r.tick_seq })),
      floor,
      source.hours,
    );
    const lastRequired = requiredIntervals(source.hours, fromMs, toMs).at(-1);
    const reached =
      !lastRequired ||
      symbols.every((s) => coverage.uncoveredMs(s, lastRequired.end - 1, lastRequired.end) === 0);
    if (reached || !rows.some((r) => r.live) || Date.now() >= deadline || signal?.aborted) return coverage;
    await sleep(Math.min(500, Math.max(0, deadline - Date.now())), signal);
  }
}
