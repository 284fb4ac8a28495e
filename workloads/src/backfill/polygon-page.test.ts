import { describe, expect, it } from '@jest/globals';
import { PolygonResponseError, checkAggregate, nextPageUrl, parsePage } from './polygon-page.js';

const agg = {
  t: Date.parse('2024-01-24T10:00:00Z'),
  o: 1.085,
  h: 1.0855,
  l: 1.0848,
  c: 1.0852,
  v: 1234,
  vw: 1.0851,
};

describe('Polygon answer pages', () => {
  const envelope = { ticker: 'C:EURUSD', status: 'OK', adjusted: true, queryCount: 0, request_id: 'r1' };

  it('reads an empty answer without results, or with results null, as no bars', () => {
    expect(parsePage({ ...envelope, resultsCount: 0 })).toEqual({
      bars: [],
      nextUrl: undefined,
      requestId: 'r1',
    });
    expect(parsePage({ ...envelope, resultsCount: 0, results: null }).bars).toEqual([]);
    expect(parsePage({ ...envelope, status: 'DELAYED' }).bars).toEqual([]);
  });

  it('reads bars and next_url, ignoring fields it does not know', () => {
    const page = parsePage({
      ...envelope,
      resultsCount: 1,
      results: [{ ...agg, n: 1234, extra: 'x' }],
      next_url:
        'https://api.massive.com/v2/aggs/ticker/C:EURUSD/range/1/hour/1706094000000/1706200000000?cursor=abc',
    });
    expect(page.bars).toEqual([{ ...agg, n: 1234 }]);
    expect(page.nextUrl).toContain('cursor=abc');
  });

  it('refuses error statuses, malformed bars and a results count that does not match', () => {
    expect(() => parsePage({ ...envelope, status: 'ERROR' })).toThrow(PolygonResponseError);
    expect(() => parsePage({ ...envelope, results: [{ ...agg, o: 'x' }] })).toThrow(/results\.0\.o/);
    expect(() => parsePage({ ...envelope, resultsCount: 2, results: [agg] })).toThrow(/claims 2 results/);
  });

  it('follows next_url on the configured host only, never to another one', () => {
    const next = nextPageUrl(
      'http://127.0.0.1:8765',
      'https://api.massive.com/v2/aggs/ticker/C:EURUSD/range/5/minute/1706094000000/1706200000000?cursor=YWJj',
    );
    expect(next.href).toBe(
      'http://127.0.0.1:8765/v2/aggs/ticker/C:EURUSD/range/5/minute/1706094000000/1706200000000?cursor=YWJj',
    );
    expect(() => nextPageUrl('http://127.0.0.1:8765', 'https://evil.example/steal')).toThrow(/leaves/);
  });

  it('accepts bars in order inside the range and on the timeframe grid, and nothing else', () => {
    const asked = { symbol: 'EUR/USD', timeframe: '1h' as const, fromMs: agg.t, toMs: agg.t + 3 * 3600_000 };
    const next = { ...agg, t: agg.t + 3600_000 };
    expect(() => checkAggregate(agg, undefined, asked)).not.toThrow();
    expect(() => checkAggregate(next, agg, asked)).not.toThrow();
    expect(() => checkAggregate(agg, next, asked)).toThrow(/out of order/);
    expect(() => checkAggregate({ ...agg, t: agg.t - 3600_000 }, undefined, asked)).toThrow(
      /outside the range/,
    );
    expect(() => checkAggregate({ ...agg, t: agg.t + 60_000 }, undefined, asked)).toThrow(/1h boundary/);
    // A week bar on Sunday (another provider anchor) is not one of the pipeline's Monday weeks.
    const sunday = Date.parse('2025-03-02T00:00:00Z');
    expect(() =>
      checkAggregate({ ...agg, t: sunday }, undefined, {
        ...asked,
        timeframe: '1w',
        fromMs: 0,
        toMs: sunday,
      }),
    ).toThrow(PolygonResponseError);
  });
});
