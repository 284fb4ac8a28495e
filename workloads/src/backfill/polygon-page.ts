// One page of Polygon's REST aggregates answer, validated at the boundary with zod, and
// the URL of the next page. Polygon leaves `results` out of an empty answer (older answers
// had `"results": null`); `next_url` marks a truncated page and never carries the key.
import { z } from 'zod';
import { polygonRestTicker } from '../contracts/symbols.js';
import { POLYGON_RANGE, barStart, type Timeframe } from '../contracts/timeframes.js';

const price = z.number().finite().positive();

/** One bar as Polygon sends it; unknown fields are ignored. */
export const polygonAggregateSchema = z.object({
  /** Bar start, Unix ms. */
  t: z.number().int().nonnegative(),
  o: price,
  h: price,
  l: price,
  c: price,
  /** Forex: the number of quote updates. */
  v: z.number().finite().nonnegative(),
  /** Volume-weighted mean price; optional (historical-bar.ts falls back without it). */
  vw: z.number().finite().nullish(),
  n: z.number().nullish(),
});
export type PolygonAggregate = z.infer<typeof polygonAggregateSchema>;

export const polygonPageSchema = z.object({
  /** OK, or DELAYED on plans that only get delayed data. */
  status: z.enum(['OK', 'DELAYED']),
  results: z.array(polygonAggregateSchema).nullish(),
  resultsCount: z.number().int().nonnegative().optional(),
  next_url: z.string().nullish(),
  request_id: z.string().optional(),
});

export interface PolygonPage {
  bars: PolygonAggregate[];
  nextUrl: string | undefined;
  requestId: string | undefined;
}

/** Thrown for an answer that does not have the expected shape; retrying will not help. */
export class PolygonResponseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolygonResponseError';
  }
}

/** Validates one 200 answer. */
export function parsePage(body: unknown): PolygonPage {
  const parsed = polygonPageSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new PolygonResponseError(
      `unexpected Polygon answer: ${issue.path.join('.') || '(body)'}: ${issue.message}`,
    );
  }
  const bars = parsed.data.results ?? [];
  if (parsed.data.resultsCount !== undefined && parsed.data.resultsCount !== bars.length) {
    throw new PolygonResponseError(
      `Polygon answer claims ${parsed.data.resultsCount} results but carries ${bars.length}`,
    );
  }
  return { bars, nextUrl: parsed.data.next_url ?? undefined, requestId: parsed.data.request_id };
}

/** `/v2/aggs/ticker/C:EURUSD/range/5/minute/<from ms>/<to ms>`: bars whose start is in [from, to]. */
export function aggregatesPath(symbol: string, timeframe: Timeframe, fromMs: number, toMs: number): string {
  const { multiplier, timespan } = POLYGON_RANGE[timeframe];
  return `/v2/aggs/ticker/${polygonRestTicker(symbol)}/range/${multiplier}/${timespan}/${fromMs}/${toMs}`;
}

/** The first page's URL: adjusted, ascending, `limit` base aggregates. */
export function firstPageUrl(
  baseUrl: string,
  symbol: string,
  timeframe: Timeframe,
  fromMs: number,
  toMs: number,
  limit: number,
): URL {
  const url = new URL(aggregatesPath(symbol, timeframe, fromMs, toMs), baseUrl);
  url.search = new URLSearchParams({ adjusted: 'true', sort: 'asc', limit: String(limit) }).toString();
  return url;
}

/**
 * The next page's URL on our configured host: next_url's path and query resolved against
 * `baseUrl`. The key then only ever goes to the host it was configured for (a next_url
 * naming another host, such as api.massive.com for a client of api.polygon.io, is not
 * trusted with it).
 */
export function nextPageUrl(baseUrl: string, nextUrl: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(nextUrl, baseUrl);
  } catch {
    throw new PolygonResponseError(`Polygon's next_url is not a URL: ${nextUrl}`);
  }
  if (!parsed.pathname.startsWith('/v2/aggs/')) {
    throw new PolygonResponseError(`Polygon's next_url leaves the aggregates endpoint: ${parsed.pathname}`);
  }
  return new URL(`${parsed.pathname}${parsed.search}`, baseUrl);
}

/**
 * Bars must come in order, aligned to the pipeline's timeframe (UTC; weeks on Monday) and
 * inside the range asked for; anything else means the answer does not mean what we think.
 */
export function checkAggregate(
  bar: PolygonAggregate,
  previous: PolygonAggregate | undefined,
  asked: { symbol: string; timeframe: Timeframe; fromMs: number; toMs: number },
): void {
  const at = `${polygonRestTicker(asked.symbol)} ${asked.timeframe} bar at ${new Date(bar.t).toISOString()}`;
  if (bar.t < asked.fromMs || bar.t > asked.toMs) {
    throw new PolygonResponseError(`${at} lies outside the range asked for`);
  }
  if (previous && bar.t <= previous.t) throw new PolygonResponseError(`${at} is out of order`);
  if (barStart(asked.timeframe, bar.t) !== bar.t) {
    throw new PolygonResponseError(
      `${at} does not start on a ${asked.timeframe} boundary of the pipeline (UTC; weeks on Monday 00:00)`,
    );
  }
}
