import { describe, expect, it } from '@jest/globals';
import { barMessageId } from '../contracts/messages.js';
import { SEED_NAMES } from '../contracts/subjects.js';
import { barArchiveRecord, barOutgoing, buildBar } from './bar-message.js';
import type { BarRow } from './bar-query.js';

const builtAt = new Date('2024-01-25T10:05:02.345Z');

const eurusd: BarRow = {
  timeframe: '5m',
  symbol: 'EUR/USD',
  startMs: Date.parse('2024-01-25T10:00:00Z'),
  open: 1.0849,
  high: 1.0855,
  low: 1.0848,
  close: 1.0852,
  volume: 4,
  vwap: 1.08505,
};

describe('bar message', () => {
  it('builds the contract message from a database row', () => {
    expect(buildBar(eurusd, {}, builtAt, 'system')).toEqual({
      tenant_id: 'system',
      symbol: 'EUR/USD',
      timeframe: '5m',
      timestamp_ms: 1706176800000,
      open: 1.0849,
      high: 1.0855,
      low: 1.0848,
      close: 1.0852,
      volume: 4,
      vwap: 1.08505,
      range_pips: 7,
      body_pips: 3,
      start_time: '2024-01-25T10:00:00.000Z',
      end_time: '2024-01-25T10:05:00.000Z',
      source: 'live_aggregated',
      event_type: 'ohlcv',
      ingested_at: '2024-01-25T10:05:02.345Z',
    });
  });

  it('measures pips per symbol, with overrides, and a falling bar has a positive body', () => {
    const jpy = buildBar(
      { ...eurusd, symbol: 'USD/JPY', open: 151.237, high: 151.25, low: 151.2, close: 151.225, vwap: 151.23 },
      {},
      builtAt,
      'system',
    );
    expect([jpy.range_pips, jpy.body_pips]).toEqual([5, 1.2]);
    const gold = {
      ...eurusd,
      symbol: 'XAU/USD',
      open: 2351.1,
      high: 2351.45,
      low: 2350.9,
      close: 2351.45,
      vwap: 2351.2,
    };
    expect([
      buildBar(gold, {}, builtAt, 'system').range_pips,
      buildBar(gold, {}, builtAt, 'system').body_pips,
    ]).toEqual([55, 35]);
    const goldTenth = buildBar(gold, { 'XAU/USD': 0.1 }, builtAt, 'system');
    expect([goldTenth.range_pips, goldTenth.body_pips]).toEqual([5.5, 3.5]);
  });

  it('ends 1w bars a week after their Monday start', () => {
    const week = buildBar(
      { ...eurusd, timeframe: '1w', startMs: Date.parse('2024-01-22T00:00:00Z') },
      {},
      builtAt,
      'system',
    );
    expect([week.start_time, week.end_time]).toEqual([
      '2024-01-22T00:00:00.000Z',
      '2024-01-29T00:00:00.000Z',
    ]);
  });

  it('refuses a row that would make an invalid bar', () => {
    expect(() => buildBar({ ...eurusd, high: 1.08 }, {}, builtAt, 'system')).toThrow(/OHLC out of order/);
    expect(() => buildBar({ ...eurusd, symbol: 'EURUSD' }, {}, builtAt, 'system')).toThrow(/symbol/);
  });

  it('publishes to bars.<SYM>.<tf> under the content id, and archives under symbol.tf', () => {
    const bar = buildBar(eurusd, {}, builtAt, 'system');
    const out = barOutgoing(bar, SEED_NAMES);
    expect(out.subject).toBe('bars.EURUSD.5m');
    expect(out.msgId).toBe(barMessageId(bar, 'system'));
    expect(JSON.parse(out.data as string)).toEqual(bar);
    // A rebuild with the same content is the same message whenever it is built.
    expect(barOutgoing(buildBar(eurusd, {}, new Date(), 'system'), SEED_NAMES).msgId).toBe(out.msgId);
    expect(barOutgoing(buildBar({ ...eurusd, volume: 5 }, {}, builtAt, 'system'), SEED_NAMES).msgId).not.toBe(
      out.msgId,
    );
    expect(barArchiveRecord(bar, SEED_NAMES)).toEqual({
      key: 'EURUSD.5m',
      value: out.data,
      messageId: out.msgId,
      headers: { 'mp-tenant-id': 'system' },
    });
  });
});
