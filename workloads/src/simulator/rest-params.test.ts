import { describe, expect, it } from '@jest/globals';
import { encodeCursor, MAX_LIMIT, nextPagePath, parseAggsRequest, type AggsRequest } from './rest-params.js';

const parse = (path: string, query = '') => parseAggsRequest(path, new URLSearchParams(query));
const ok = (path: string, query = ''): AggsRequest => {
  const result = parse(path, query);
  if (!result.ok) throw new Error(result.message);
  return result.request;
};

describe('REST aggregates parameters', () => {
  it('reads the forex ticker, range and query with Polygon defaults', () => {
    expect(ok('/v2/aggs/ticker/C%3AXAUUSD/range/5/minute/2024-05-01/2024-05-02')).toEqual({
      ticker: 'C:XAUUSD',
      symbol: 'XAU/USD',
      multiplier: 5,
      timespan: 'minute',
      fromText: '2024-05-01',
      toText: '2024-05-02',
      fromMs: Date.parse('2024-05-01T00:00:00Z'),
      // A date as `to` covers that whole day.
      toMs: Date.parse('2024-05-03T00:00:00Z') - 1,
      adjusted: true,
      sort: 'asc',
      limit: 5000,
    });
    expect(
      ok('/v2/aggs/ticker/C:EURUSD/range/1/day/1714521600000/1714608000000', 'limit=999999&sort=desc'),
    ).toMatchObject({ fromMs: 1714521600000, toMs: 1714608000000, limit: MAX_LIMIT, sort: 'desc' });
  });

  it('round-trips the page settings through an opaque base64url cursor', () => {
    const first = ok(
      '/v2/aggs/ticker/C:EURUSD/range/1/hour/2024-05-01/2024-05-31',
      'limit=120&sort=desc&adjusted=false',
    );
    const next = new URL(nextPagePath(first, 1715000000000), 'http://x');
    expect(next.pathname).toBe('/v2/aggs/ticker/C:EURUSD/range/1/hour/2024-05-01/1715000000000');
    expect([...next.searchParams.keys()]).toEqual(['cursor']);
    const cursor = next.searchParams.get('cursor')!;
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Buffer.from(cursor, 'base64url').toString()).toBe('adjusted=false&limit=120&sort=desc');
    // Following it, the cursor wins over anything else in the query.
    const second = ok(next.pathname, `cursor=${cursor}&limit=7&apiKey=k`);
    expect(second).toMatchObject({ limit: 120, sort: 'desc', adjusted: false, toMs: 1715000000000 });
    expect(encodeCursor({ adjusted: true, limit: 2, sort: 'asc' })).toBe(
      Buffer.from('adjusted=true&limit=2&sort=asc').toString('base64url'),
    );
    // Ascending pages move `from` instead.
    const asc = ok('/v2/aggs/ticker/C:EURUSD/range/1/hour/2024-05-01/2024-05-31');
    expect(nextPagePath(asc, 1715000000000)).toMatch(/\/range\/1\/hour\/1715000000000\/2024-05-31\?cursor=/);
  });

  it('says why a request is wrong, with 404 for what does not exist', () => {
    expect(parse('/v2/aggs/ticker/X:BTCUSD/range/1/day/2024-05-01/2024-05-02')).toMatchObject({
      status: 404,
    });
    expect(parse('/v2/aggs/ticker/C:EURUSD/range/1/day/2024-05-02/2024-05-01')).toMatchObject({
      status: 400,
      message: "The parameter 'to' cannot be a time that occurs before 'from'",
    });
    expect(parse('/v2/aggs/ticker/C:EURUSD/range/x/day/2024-05-01/2024-05-02')).toMatchObject({
      status: 400,
    });
    expect(parse('/v2/aggs/ticker/C:EURUSD/range/1/day/2024-13-01/2024-05-02')).toMatchObject({
      status: 400,
    });
    expect(parse('/v2/aggs/ticker/C:EURUSD/range/1/day/2024-05-01/2024-05-02', 'limit=0')).toMatchObject({
      status: 400,
    });
    const junkCursor = Buffer.from('apiKey=stolen').toString('base64url');
    expect(
      parse('/v2/aggs/ticker/C:EURUSD/range/1/day/2024-05-01/2024-05-02', `cursor=${junkCursor}`),
    ).toMatchObject({
      status: 400,
      message: 'Invalid cursor',
    });
  });
});
