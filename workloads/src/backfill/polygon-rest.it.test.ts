// The REST client against the Polygon simulator over real HTTP: paging through next_url,
// 429 with recovery, 5xx retries through the admin hook, 401 as a fatal error, empty ranges.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Registry } from 'prom-client';
import { restRequestCount, startTestSimulator, TEST_API_KEY } from '../../../test/support/simulator.js';
import { quietLog } from '../../../test/support/bridge-harness.js';
import type { Simulator } from '../simulator/simulator-server.js';
import {
  PolygonFatalError,
  PolygonRestClient,
  PolygonUnavailableError,
  type PolygonRestOptions,
} from './polygon-rest.js';
import { TokenBucket } from './token-bucket.js';

jest.setTimeout(60_000);

const utc = (iso: string) => Date.parse(iso);
// A Wednesday in the simulator's history: 4 quotes a minute in every minute, so every 5m bar
// holds 5 base aggregates (minutes).
const FROM = utc('2025-03-05T00:00:00Z');
const LAST = utc('2025-03-05T23:55:00Z');

async function adminFailures(sim: Simulator, count: number, status: number): Promise<void> {
  const res = await fetch(`${sim.restUrl}/admin/rest-failures?count=${count}&status=${status}`, {
    method: 'POST',
  });
  expect(res.status).toBe(200);
}

describe('Polygon REST client (simulator)', () => {
  let sim: Simulator;
  let registry: Registry;
  const client = (overrides: Partial<PolygonRestOptions> = {}) =>
    new PolygonRestClient({
      baseUrl: sim.restUrl,
      apiKey: TEST_API_KEY,
      bucket: new TokenBucket(6000),
      requestsPerMinute: 6000,
      log: quietLog,
      serverBackoff: { initialMs: 20, maxMs: 100 },
      ...overrides,
    });

  beforeAll(async () => {
    registry = new Registry();
    sim = await startTestSimulator({}, registry);
  });
  afterAll(async () => {
    await sim?.close();
  });

  it('follows next_url (key re-attached) and gets exactly what one big page holds', async () => {
    const whole = await client().aggregates('EUR/USD', '5m', FROM, LAST);
    expect(whole.pages).toBe(1);
    expect(whole.bars).toHaveLength(288);
    // 100 base aggregates per page = 20 five-minute bars.
    const paged = await client({ pageLimit: 100 }).aggregates('EUR/USD', '5m', FROM, LAST);
    expect(paged.pages).toBe(Math.ceil(288 / 20));
    expect(paged.bars).toEqual(whole.bars);
  });

  it('answers a weekend range with no bars and no error', async () => {
    const weekend = await client().aggregates(
      'EUR/USD',
      '1h',
      utc('2025-03-08T00:00:00Z'),
      utc('2025-03-09T20:00:00Z'),
    );
    expect(weekend).toEqual({ bars: [], pages: 1 });
  });

  it('backs off on 429 and completes the range', async () => {
    const limited = new Registry();
    const strict = await startTestSimulator({ restRequestsPerMinute: 2, restRateWindowMs: 1000 }, limited);
    try {
      const reference = await client().aggregates('EUR/USD', '5m', FROM, LAST);
      const rest = client({ baseUrl: strict.restUrl, pageLimit: 250 });
      const result = await rest.aggregates('EUR/USD', '5m', FROM, LAST);
      expect(result.bars).toEqual(reference.bars);
      expect(result.pages).toBe(6);
      expect(rest.stats.rateLimited).toBeGreaterThan(0);
      expect(await restRequestCount(limited, 429)).toBe(rest.stats.rateLimited);
    } finally {
      await strict.close();
    }
  });

  it('retries 5xx answers (admin hook) with backoff, and gives up after its retries', async () => {
    await adminFailures(sim, 2, 503);
    const rest = client();
    expect((await rest.aggregates('GBP/USD', '1h', FROM, LAST)).bars).toHaveLength(24);
    expect(rest.stats).toMatchObject({ serverErrors: 2, pages: 1, requests: 3 });

    await adminFailures(sim, 3, 502);
    const impatient = client({ maxServerRetries: 2 });
    const failure = impatient.aggregates('GBP/USD', '1h', FROM, LAST);
    await expect(failure).rejects.toThrow(PolygonUnavailableError);
    await expect(failure).rejects.toThrow(/HTTP 502 .*gave up after 2 retries/);
    expect(impatient.stats.requests).toBe(3);
  });

  it('stops at once on 401 with an error naming POLYGON_API_KEY', async () => {
    const before = await restRequestCount(registry, 401);
    const rest = client({ apiKey: 'wrong-key' });
    const failure = rest.aggregates('EUR/USD', '5m', FROM, LAST);
    await expect(failure).rejects.toThrow(PolygonFatalError);
    await expect(failure).rejects.toThrow(/401: Unknown API Key\): check POLYGON_API_KEY/);
    expect(rest.stats.requests).toBe(1);
    expect(await restRequestCount(registry, 401)).toBe(before + 1);
  });
});
