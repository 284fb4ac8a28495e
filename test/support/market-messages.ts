// Valid tick and bar messages for tests, with overrides; plus their NATS subject, id and bytes.
import { barMessageId, tickMessageId, type Bar, type Tick } from '../../workloads/src/contracts/messages.js';
import { SEED_NAMES, type PipelineNames } from '../../workloads/src/contracts/subjects.js';
import { barEnd } from '../../workloads/src/contracts/timeframes.js';
import type { Outgoing } from '../../workloads/src/nats/publish.js';

export function makeTick(overrides: Partial<Tick> = {}): Tick {
  const tick: Tick = {
    symbol: 'EUR/USD',
    bid: 1.0848,
    ask: 1.085,
    mid: 1.0849,
    spread: 2,
    timestamp_ms: Date.UTC(2026, 0, 5, 10, 0, 0, 123),
    exchange: 48,
    source: 'polygon_websocket',
    event_type: 'quote',
    ingested_at: '2026-01-05T10:00:00.200Z',
    ...overrides,
  };
  return tick;
}

export function makeBar(overrides: Partial<Bar> = {}): Bar {
  const timeframe = overrides.timeframe ?? '5m';
  const timestamp_ms = overrides.timestamp_ms ?? Date.UTC(2026, 0, 5, 10, 0);
  return {
    symbol: 'EUR/USD',
    timeframe,
    timestamp_ms,
    open: 1.085,
    high: 1.0855,
    low: 1.0848,
    close: 1.0852,
    volume: 120,
    vwap: 1.0851,
    range_pips: 7,
    body_pips: 2,
    start_time: new Date(timestamp_ms).toISOString(),
    end_time: new Date(barEnd(timeframe, timestamp_ms)).toISOString(),
    source: 'live_aggregated',
    event_type: 'ohlcv',
    ingested_at: new Date(barEnd(timeframe, timestamp_ms) + 1000).toISOString(),
    ...overrides,
  };
}

export const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

export function tickOutgoing(tick: Tick): Outgoing {
  return outgoingOf(SEED_NAMES).tick(tick);
}

export function barOutgoing(bar: Bar): Outgoing {
  return outgoingOf(SEED_NAMES).bar(bar);
}

/** Ticks and bars as the pipeline of `names` publishes them: its subjects and message ids. */
export function outgoingOf(names: PipelineNames): { tick(t: Tick): Outgoing; bar(b: Bar): Outgoing } {
  return {
    tick: (tick) => ({
      subject: names.tickSubject(tick.symbol),
      data: encode(tick),
      msgId: tickMessageId(tick, names.idScope),
    }),
    bar: (bar) => ({
      subject: names.barSubject(bar.symbol, bar.timeframe),
      data: encode(bar),
      msgId: barMessageId(bar, names.idScope),
    }),
  };
}
