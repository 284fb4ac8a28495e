// Polygon REST aggregates client: paced by the token bucket, every page of a range
// (next_url followed with the key re-attached), retries where a retry can help.
// - 429: back off (Retry-After when sent, else doubling from one request interval), drain
//   the bucket, try again, up to maxRateLimitRetries times.
// - 5xx, timeouts, refused connections: capped exponential backoff, up to maxServerRetries.
// - 401/403: fatal, naming POLYGON_API_KEY or the plan; other 4xx: fatal with Polygon's text.
// A range whose page chain cannot be completed fails as a whole: none of it is returned,
// so nothing is ever silently truncated (seed lesson 10).
import type { Timeframe } from '../contracts/timeframes.js';
import { Backoff, sleep, type BackoffOptions } from '../runtime/backoff.js';
import type { Logger } from '../runtime/logger.js';
import {
  PolygonResponseError,
  checkAggregate,
  firstPageUrl,
  nextPageUrl,
  parsePage,
  type PolygonAggregate,
  type PolygonPage,
} from './polygon-page.js';
import { POLYGON_MAX_LIMIT } from './ranges.js';
import type { TokenBucket } from './token-bucket.js';

/** A failure that retrying will not fix (credentials, plan, request): the run stops. */
export class PolygonFatalError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'PolygonFatalError';
  }
}

/** Polygon stayed unavailable (5xx, timeouts, 429) through every retry. */
export class PolygonUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PolygonUnavailableError';
  }
}

export interface PolygonRestOptions {
  baseUrl: string;
  apiKey: string;
  bucket: TokenBucket;
  /** The plan's requests per minute: the first 429 backoff is one request interval. */
  requestsPerMinute: number;
  log: Logger;
  signal?: AbortSignal;
  /** Base aggregates per page (Polygon's maximum unless a test wants many pages). */
  pageLimit?: number;
  maxServerRetries?: number;
  maxRateLimitRetries?: number;
  serverBackoff?: BackoffOptions;
  requestTimeoutMs?: number;
}

export interface RestStats {
  /** HTTP requests sent (pages and retries). */
  requests: number;
  pages: number;
  rateLimited: number;
  serverErrors: number;
}

export class PolygonRestClient {
  readonly stats: RestStats = { requests: 0, pages: 0, rateLimited: 0, serverErrors: 0 };
  private readonly pageLimit: number;

  constructor(private readonly o: PolygonRestOptions) {
    this.pageLimit = o.pageLimit ?? POLYGON_MAX_LIMIT;
  }

  /**
   * Every bar of `symbol` and `timeframe` whose start is in [fromMs, toMs] (both bar
   * starts), ascending, over as many pages as Polygon sends.
   */
  async aggregates(
    symbol: string,
    timeframe: Timeframe,
    fromMs: number,
    toMs: number,
  ): Promise<{ bars: PolygonAggregate[]; pages: number }> {
    const bars: PolygonAggregate[] = [];
    const seen = new Set<string>();
    let url: URL | undefined = firstPageUrl(this.o.baseUrl, symbol, timeframe, fromMs, toMs, this.pageLimit);
    let pages = 0;
    while (url) {
      if (seen.has(url.href)) throw new PolygonResponseError(`Polygon's next_url repeats ${url.pathname}`);
      seen.add(url.href);
      const page = await this.page(url, symbol);
      pages++;
      for (const bar of page.bars) {
        checkAggregate(bar, bars.at(-1), { symbol, timeframe, fromMs, toMs });
        bars.push(bar);
      }
      url = page.nextUrl === undefined ? undefined : nextPageUrl(this.o.baseUrl, page.nextUrl);
    }
    return { bars, pages };
  }

  private async page(url: URL, symbol: string): Promise<PolygonPage> {
    const serverBackoff = new Backoff(this.o.serverBackoff ?? { initialMs: 1000, maxMs: 30_000 });
    const rateBackoff = new Backoff({
      initialMs: Math.max(250, Math.round(60_000 / this.o.requestsPerMinute)),
      maxMs: 120_000,
      jitter: 0.2,
    });
    const maxServerRetries = this.o.maxServerRetries ?? 5;
    const maxRateRetries = this.o.maxRateLimitRetries ?? 10;
    const where = `Polygon REST ${url.origin}${url.pathname}`;
    for (;;) {
      await this.o.bucket.take(this.o.signal);
      this.stats.requests++;
      let outcome: Outcome;
      try {
        outcome = await this.request(url);
      } catch (error) {
        this.o.signal?.throwIfAborted();
        outcome = { kind: 'unavailable', detail: reasonText(error) };
      }
      if (outcome.kind === 'page') {
        this.stats.pages++;
        return outcome.page;
      }
      if (outcome.kind === 'fatal') throw outcome.error;
      if (outcome.kind === 'rate_limited') {
        this.stats.rateLimited++;
        this.o.bucket.drain();
        if (rateBackoff.attempts >= maxRateRetries) {
          throw new PolygonUnavailableError(
            `${where}: still rate limited (429) after ${maxRateRetries} retries; ` +
              `is POLYGON_REST_REQUESTS_PER_MINUTE (${this.o.requestsPerMinute}) above the plan's limit, ` +
              'or is another client using the same POLYGON_API_KEY?',
          );
        }
        const delay = outcome.retryAfterMs ?? rateBackoff.next();
        this.o.log.warn(
          { symbol, path: url.pathname, delayMs: delay },
          'Polygon rate limit (429): backing off',
        );
        await sleep(delay, this.o.signal);
      } else {
        this.stats.serverErrors++;
        if (serverBackoff.attempts >= maxServerRetries) {
          throw new PolygonUnavailableError(
            `${where}: ${outcome.detail}; gave up after ${maxServerRetries} retries`,
          );
        }
        const delay = serverBackoff.next();
        this.o.log.warn(
          { symbol, path: url.pathname, reason: outcome.detail, delayMs: delay },
          'Polygon REST unavailable: retrying',
        );
        await sleep(delay, this.o.signal);
      }
      this.o.signal?.throwIfAborted();
    }
  }

  private async request(url: URL): Promise<Outcome> {
    const timeout = AbortSignal.timeout(this.o.requestTimeoutMs ?? 60_000);
    const response = await fetch(url, {
      // The key goes in a header: it is re-attached to every page (next_url never has it)
      // and never appears in a URL that could be logged.
      headers: { Authorization: `Bearer ${this.o.apiKey}`, Accept: 'application/json' },
      signal: this.o.signal ? AbortSignal.any([this.o.signal, timeout]) : timeout,
    });
    const text = await response.text();
    const status = response.status;
    if (status === 200) {
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        // A cut-off body is a transport failure, not an answer.
        return { kind: 'unavailable', detail: `200 with a body that is not JSON (${text.length} bytes)` };
      }
      try {
        return { kind: 'page', page: parsePage(body) };
      } catch (error) {
        return { kind: 'fatal', error: error as Error };
      }
    }
    const message = errorText(text);
    if (status === 429) return { kind: 'rate_limited', retryAfterMs: retryAfterMs(response.headers) };
    if (status >= 500) return { kind: 'unavailable', detail: `HTTP ${status} ${message}`.trim() };
    if (status === 401 || status === 403) {
      const hint =
        status === 401
          ? 'check POLYGON_API_KEY'
          : "the plan of POLYGON_API_KEY does not include this data (Polygon's plans differ in history and timeframes)";
      return {
        kind: 'fatal',
        error: new PolygonFatalError(
          `Polygon REST refused the request (HTTP ${status}${message ? `: ${message}` : ''}): ${hint}`,
          status,
        ),
      };
    }
    return {
      kind: 'fatal',
      error: new PolygonFatalError(
        `Polygon REST answered HTTP ${status} for ${url.pathname}${message ? `: ${message}` : ''}`,
        status,
      ),
    };
  }
}

type Outcome =
  | { kind: 'page'; page: PolygonPage }
  | { kind: 'rate_limited'; retryAfterMs: number | undefined }
  | { kind: 'unavailable'; detail: string }
  | { kind: 'fatal'; error: Error };

/** Polygon's message from an error body ({error} or {message}), else the start of the text. */
function errorText(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: unknown; message?: unknown };
    const message = body.error ?? body.message;
    if (typeof message === 'string') return message;
  } catch {
    // not JSON
  }
  return text.slice(0, 200).trim();
}

function retryAfterMs(headers: Headers): number | undefined {
  const value = headers.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, 300_000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.min(Math.max(0, date - Date.now()), 300_000);
}

function reasonText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === 'TimeoutError') return 'request timed out';
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? error.message;
}
