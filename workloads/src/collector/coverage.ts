// Coverage: which spans of time this collector saw completely, as markers on
// events.coverage (messages.ts coverageSchema) that the bridge stores in `feed_coverage`.
//
// A segment is one unbroken stretch of "subscribed, receiving, nothing dropped" of this
// process. It opens when the subscription is confirmed (or the first quote arrives), and
// ends when the connection drops or a tick is dropped (full buffer). It also ends, without
// any goodbye, when the process dies: a marker is only ever sent for time whose ticks
// JetStream has already confirmed, so a crash, an OOM kill or a SIGTERM whose flush failed
// claims nothing that was not stored. The time between segments (and before the first one)
// is not covered: the aggregator marks bars there partial and the gap filler replaces them.
//
// A marker is cut every COLLECTOR_COVERAGE_INTERVAL_MS: at wall-clock W, remember how many
// ticks had been offered; once JetStream confirmed all of them, send "covered from the
// segment's start to W - skew". The skew allows for quotes stamped before W that were still
// on their way (Polygon's `t` is the quote time; the coverage is in the same clock).
import { randomUUID } from 'node:crypto';
import type { CoverageMarker } from '../contracts/messages.js';

export interface CoverageQueue {
  /** Ticks offered so far (a position). */
  readonly offered: number;
  /** Every tick offered before this position is confirmed. */
  readonly confirmedBefore: number;
}

interface Segment {
  id: string;
  fromMs: number;
}

interface Checkpoint {
  segment: Segment;
  toMs: number;
  position: number;
}

export type CoverageSpan = Omit<CoverageMarker, 'tenant_id' | 'tick_seq' | 'emitted_at'>;

export class CoverageTracker {
  private readonly processId = randomUUID();
  private segments = 0;
  private segment: Segment | undefined;
  private checkpoint: Checkpoint | undefined;

  constructor(
    private readonly symbols: readonly string[],
    private readonly skewMs: number,
  ) {}

  get open(): boolean {
    return this.segment !== undefined;
  }

  /** Subscribed and receiving (or a frame went through without a drop): a segment opens if none is. */
  started(nowMs: number): void {
    this.segment ??= { id: `${this.processId}-${++this.segments}`, fromMs: nowMs };
  }

  /** Quotes may be missed from here on: the segment ends at its last confirmed checkpoint. */
  broken(): void {
    this.segment = undefined;
  }

  /**
   * Called periodically: returns the span to send, if the pending checkpoint is confirmed,
   * and takes a new checkpoint at `nowMs`.
   */
  tick(nowMs: number, queue: CoverageQueue): CoverageSpan | undefined {
    const due = this.confirmed(queue);
    if (due) this.checkpoint = undefined;
    if (!this.checkpoint && this.segment) {
      const toMs = nowMs - this.skewMs;
      if (toMs >= this.segment.fromMs) {
        this.checkpoint = { segment: this.segment, toMs, position: queue.offered };
      }
    }
    return due;
  }

  /**
   * At a graceful stop, after the feed closed at `stoppedAtMs` and the flush: the span up to
   * then, if every tick was confirmed (`flushed`); else only a checkpoint already confirmed.
   */
  final(stoppedAtMs: number, queue: CoverageQueue, flushed: boolean): CoverageSpan | undefined {
    if (flushed && this.segment && queue.confirmedBefore >= queue.offered) {
      const toMs = stoppedAtMs - this.skewMs;
      this.checkpoint = undefined;
      return toMs >= this.segment.fromMs ? this.span(this.segment, toMs) : undefined;
    }
    const due = this.confirmed(queue);
    this.checkpoint = undefined;
    return due;
  }

  private confirmed(queue: CoverageQueue): CoverageSpan | undefined {
    const c = this.checkpoint;
    if (!c || queue.confirmedBefore < c.position) return undefined;
    return this.span(c.segment, c.toMs);
  }

  private span(segment: Segment, toMs: number): CoverageSpan {
    return { segment_id: segment.id, symbols: [...this.symbols], from_ms: segment.fromMs, to_ms: toMs };
  }
}
