import { describe, expect, it } from '@jest/globals';
import { PolygonResponseError, nextPageUrl, parsePage } from './polygon-page.js';

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
});
