import { describe, expect, it } from '@jest/globals';
import { clipToRelayed, relayedSymbols, ticksRelayedThrough } from './coverage.js';

const state = (floor: number, pending: number, ackPending: number) => ({
  ack_floor: { stream_seq: floor },
  num_pending: pending,
  num_ack_pending: ackPending,
});

describe('ticksRelayedThrough', () => {
  it('holds once the ack floor reached the marker’s sequence', () => {
    expect(ticksRelayedThrough(state(100, 5, 2), 100, 1)).toBe(true);
    expect(ticksRelayedThrough(state(99, 5, 2), 100, 1)).toBe(false);
  });

  it('holds below the sequence only when nothing of the filter is pending or unacked', () => {
    // The source's last messages are of other symbols: the floor stays at the relay's last tick.
    expect(ticksRelayedThrough(state(90, 0, 0), 100, 1)).toBe(true);
    expect(ticksRelayedThrough(state(90, 1, 0), 100, 1)).toBe(false);
    expect(ticksRelayedThrough(state(90, 0, 1), 100, 1)).toBe(false);
  });

  it('never while the stream dropped messages past the floor the relay has not read', () => {
    expect(ticksRelayedThrough(state(10, 0, 0), 5, 21)).toBe(false);
    expect(ticksRelayedThrough(state(20, 0, 0), 25, 21)).toBe(true);
    // A new durable on a stream whose first ticks aged out: not until it relayed one.
    expect(ticksRelayedThrough(state(0, 0, 0), 5, 3)).toBe(false);
  });
});

describe('relayedSymbols', () => {
  it('keeps the marker’s symbols the relay carries, in the marker’s order', () => {
    expect(relayedSymbols({ symbols: ['USD/JPY', 'GBP/USD', 'EUR/USD'] }, ['EUR/USD', 'USD/JPY'])).toEqual([
      'USD/JPY',
      'EUR/USD',
    ]);
    expect(relayedSymbols({ symbols: ['GBP/USD'] }, ['EUR/USD'])).toEqual([]);
  });
});

describe('clipToRelayed', () => {
  const span = { segment_id: 's', from_ms: 1000, to_ms: 2000, symbols: ['EUR/USD'] };

  it('leaves a span the relay lost nothing of as it is', () => {
    expect(clipToRelayed(span, [])).toBe(span);
    expect(clipToRelayed(span, [{ fromMs: 2001, toMs: 3000 }])).toBe(span);
  });

  it('starts after the last loss it overlaps, as a segment of its own', () => {
    expect(clipToRelayed(span, [{ fromMs: 1200, toMs: 1300 }])).toEqual({
      ...span,
      segment_id: 's+1301',
      from_ms: 1301,
    });
    // Given in any order: the start moves past both.
    expect(
      clipToRelayed(span, [
        { fromMs: 1400, toMs: 1500 },
        { fromMs: 0, toMs: 1450 },
      ]),
    ).toMatchObject({ segment_id: 's+1501', from_ms: 1501 });
  });

  it('drops a span wholly lost', () => {
    expect(clipToRelayed(span, [{ fromMs: 0, toMs: 2000 }])).toBeUndefined();
  });
});
