// The simulator's REST aggregates endpoint over real HTTP: Polygon's envelope, market
// hours, pagination through next_url, authentication, rate limiting and the 5xx hook.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { startTestSimulator, TEST_API_KEY } from '../../../test/support/simulator.js';
import { forexOpenIntervals } from '../contracts/market-hours.js';
import type { AggregateBar } from './bars.js';
import type { Simulator } from './simulator-server.js';

// Jest's default 5 s is too short for the socket round trips on a busy machine.
jest.setTimeout(30_000);

interface AggsBody {
  ticker: string;
  status: string;
  adjusted: boolean;
  queryCount: number;
  resultsCount: number;
  request_id: string;
  results?: AggregateBar[];
  next_url?: string;
  error?: string;
  message?: string;
}

const utc = (iso: string) => Date.parse(iso);

async function get(url: string, init?: RequestInit): Promise<{ status: number; body: AggsBody }> {
  const response = await fetch(url, init);
  return { status: response.status, body: (await response.json()) as AggsBody };
}

describe('simulator REST /v2/aggs', () => {
  let simulator: Simulator;
  const aggs = (path: string, query = '') =>
    get(`${simulator.restUrl}/v2/aggs/ticker/${path}?apiKey=${TEST_API_KEY}${query}`);

  /** Follows next_url (re-attaching the key) and returns every page. */
  async function allPages(path: string, query: string): Promise<AggsBody[]> {
    const pages = [(await aggs(path, query)).body];
    while (pages.at(-1)!.next_url) {
      const next = pages.at(-1)!.next_url!;
      expect(next).not.toContain(TEST_API_KEY);
      expect(new URL(next).searchParams.get('cursor')).toMatch(/^[A-Za-z0-9_-]+$/);
      pages.push((await get(`${next}&apiKey=${TEST_API_KEY}`)).body);
      expect(pages.length).toBeLessThan(100);
    }
    return pages;
  }

  beforeAll(async () => {
    simulator = await startTestSimulator();
  });
  afterAll(() => simulator.close());

  it('answers with Polygon envelope and bars only inside market hours across a weekend', async () => {
    const { status, body } = await aggs('C:EURUSD/range/1/hour/2024-05-03/2024-05-06');
    expect(status).toBe(200);
    expect(Object.keys(body)).toEqual([
      'ticker',
      'status',
      'adjusted',
      'queryCount',
      'resultsCount',
      'request_id',
      'results',
    ]);
    expect(body).toMatchObject({ ticker: 'C:EURUSD', status: 'OK', adjusted: true, resultsCount: 48 });
    expect(body.request_id).toMatch(/^[0-9a-f]{32}$/);
    const open = forexOpenIntervals(utc('2024-05-03T00:00:00Z'), utc('2024-05-07T00:00:00Z'));
    const starts = body.results!.map((b) => b.t);
    // Friday 00:00-20:00, Sunday 21:00-23:00, Monday 00:00-23:00 (UTC, New York on EDT).
    expect(starts[20]).toBe(utc('2024-05-03T20:00:00Z'));
    expect(starts[21]).toBe(utc('2024-05-05T21:00:00Z'));
    expect(starts.every((t) => open.some((i) => i.start <= t && t < i.end))).toBe(true);
    for (const bar of body.results!) {
      expect(Object.keys(bar)).toEqual(['o', 'h', 'l', 'c', 'v', 'vw', 'n', 't']);
      expect(bar.l).toBeLessThanOrEqual(Math.min(bar.o, bar.c));
      expect(bar.h).toBeGreaterThanOrEqual(Math.max(bar.o, bar.c));
      expect(bar.v).toBe(bar.n);
    }
    expect(body.queryCount).toBe(48 * 60);
  });

  it('answers an empty range without a results key', async () => {
    const { status, body } = await aggs('C:XAUUSD/range/5/minute/2024-05-04/2024-05-04');
    expect(status).toBe(200);
    expect(body).toEqual({
      ticker: 'C:XAUUSD',
      status: 'OK',
      adjusted: true,
      queryCount: 0,
      resultsCount: 0,
      request_id: body.request_id,
    });
  });

  it.each(['asc', 'desc'])(
    'pages through next_url (%s) returning every bar exactly once, in order',
    async (sort) => {
      const path = 'C:USDJPY/range/5/minute/2024-04-01/2024-04-30';
      const whole = (await aggs(path, `&limit=50000&sort=${sort}`)).body;
      expect(whole.next_url).toBeUndefined();
      expect(whole.resultsCount).toBeGreaterThan(5000);
      // limit counts base (minute) aggregates: 500 minutes = 100 five-minute bars per page.
      const pages = await allPages(path, `&limit=500&sort=${sort}`);
      expect(pages.length).toBe(Math.ceil(whole.resultsCount / 100));
      expect(pages.slice(0, -1).every((p) => p.resultsCount === 100)).toBe(true);
      expect(pages.flatMap((p) => p.results ?? [])).toEqual(whole.results);
    },
  );

  it('accepts the key as a Bearer header and the ticker URL-encoded', async () => {
    const byQuery = (await aggs('C:GBPUSD/range/1/day/2024-05-01/2024-05-10')).body;
    const byHeader = await get(
      `${simulator.restUrl}/v2/aggs/ticker/C%3AGBPUSD/range/1/day/2024-05-01/2024-05-10`,
      {
        headers: { Authorization: `Bearer ${TEST_API_KEY}` },
      },
    );
    expect(byHeader.status).toBe(200);
    expect(byHeader.body.results).toEqual(byQuery.results);
    // Day bars start at 00:00 UTC and take ms bounds too.
    expect(byQuery.results![0]!.t).toBe(utc('2024-05-01T00:00:00Z'));
    const byMs = (
      await aggs(`C:GBPUSD/range/1/day/${utc('2024-05-01T00:00:00Z')}/${utc('2024-05-10T00:00:00Z')}`)
    ).body;
    expect(byMs.results).toEqual(byQuery.results);
  });

  it('rejects a wrong key with 401 and a missing key with 400', async () => {
    const base = `${simulator.restUrl}/v2/aggs/ticker/C:EURUSD/range/1/day/2024-05-01/2024-05-10`;
    const wrong = await get(`${base}?apiKey=nope`);
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual({
      status: 'ERROR',
      request_id: wrong.body.request_id,
      error: 'Unknown API Key',
    });
    const missing = await get(base);
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ status: 'ERROR', error: 'API Key was not provided' });
  });

  it('answers 404 for other tickers and paths, 400 for bad parameters', async () => {
    expect((await aggs('X:BTCUSD/range/1/day/2024-05-01/2024-05-10')).status).toBe(404);
    expect((await aggs('AAPL/range/1/day/2024-05-01/2024-05-10')).status).toBe(404);
    expect((await get(`${simulator.restUrl}/v3/quotes/C:EUR-USD?apiKey=${TEST_API_KEY}`)).status).toBe(404);
    const bad = await aggs('C:EURUSD/range/1/day/2024-05-10/2024-05-01');
    expect(bad).toMatchObject({
      status: 400,
      body: { status: 'ERROR', error: "The parameter 'to' cannot be a time that occurs before 'from'" },
    });
    expect((await aggs('C:EURUSD/range/1/fortnight/2024-05-01/2024-05-10')).status).toBe(400);
    expect((await aggs('C:EURUSD/range/0/day/2024-05-01/2024-05-10')).status).toBe(400);
    expect((await aggs('C:EURUSD/range/1/day/2024-02-30/2024-05-10')).status).toBe(400);
    expect((await aggs('C:EURUSD/range/1/day/2024-05-01/2024-05-10', '&limit=many')).status).toBe(400);
    expect((await aggs('C:EURUSD/range/1/day/2024-05-01/2024-05-10', '&sort=up')).status).toBe(400);
    expect((await aggs('C:EURUSD/range/1/day/2024-05-01/2024-05-10', '&cursor=%%%')).status).toBe(400);
  });

  it('fails the next N requests with a 5xx on POST /admin/rest-failures, then recovers', async () => {
    const hook = await fetch(`${simulator.restUrl}/admin/rest-failures?count=2&status=502`, {
      method: 'POST',
    });
    expect(await hook.json()).toEqual({ pending: 2, status: 502 });
    const path = 'C:EURUSD/range/1/day/2024-05-01/2024-05-10';
    expect((await aggs(path)).status).toBe(502);
    expect((await aggs(path)).body).toMatchObject({ status: 'ERROR' });
    expect((await aggs(path)).status).toBe(200);
  });
});

describe('simulator REST rate limit', () => {
  let simulator: Simulator;
  beforeAll(async () => {
    simulator = await startTestSimulator({ restRequestsPerMinute: 3, restRateWindowMs: 1500 });
  });
  afterAll(() => simulator.close());

  it('answers 429 past the configured requests per window, and serves again after the window', async () => {
    const url = `${simulator.restUrl}/v2/aggs/ticker/C:EURUSD/range/1/day/2024-05-01/2024-05-03?apiKey=${TEST_API_KEY}`;
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await get(url)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await get(url);
    expect(limited).toMatchObject({
      status: 429,
      body: { status: 'ERROR', error: expect.stringContaining('exceeded the maximum requests per minute') },
    });
    await new Promise((r) => setTimeout(r, 1600));
    expect((await get(url)).status).toBe(200);
  });
});
