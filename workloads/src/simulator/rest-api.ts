// Polygon's REST aggregates endpoint, `GET /v2/aggs/ticker/{C:XXXYYY}/range/{multiplier}/
// {timespan}/{from}/{to}`, over the simulator's deterministic quotes, with Polygon's
// envelope, errors, `limit` semantics (it counts base aggregates: minutes for minute and
// hour bars, seconds for second bars, days above), next_url pagination and rate limiting.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../runtime/logger.js';
import { barCalendar, scanBars, type AggregateBar } from './bars.js';
import type { FaultInjector } from './faults.js';
import type { SimulatorMetrics } from './metrics.js';
import { QuoteGenerator } from './quote-generator.js';
import { quoteSegments, QuoteWindow, type TimelineOptions } from './quote-timeline.js';
import type { SlidingWindowRateLimiter } from './rate-limiter.js';
import { isAggsPath, nextPagePath, parseAggsRequest, type AggsRequest } from './rest-params.js';

export interface RestApiOptions {
  apiKey: string;
  seed: number;
  timeline: TimelineOptions;
  limiter: SlidingWindowRateLimiter | undefined;
  faults: FaultInjector;
  log: Logger;
  metrics: SimulatorMetrics;
  now?: () => number;
}

/** Polygon's text for a rate-limited request (third-party record; see polygon-forex.md §2.4). */
const RATE_LIMIT_MESSAGE =
  "You've exceeded the maximum requests per minute, please wait or upgrade your subscription to continue. https://polygon.io/pricing";
/** Hand the event loop back (to the WebSocket stream) after this much work on one request. */
const YIELD_EVERY_MS = 20;

type Body = Record<string, unknown>;

export class RestApi {
  private readonly now: () => number;

  constructor(private readonly options: RestApiOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Serves one request (any path that is not the WebSocket or admin endpoint). */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const requestId = randomBytes(16).toString('hex');
    const started = performance.now();
    const { status, body } = await this.respond(req, url, requestId);
    const json = JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(json),
      'X-Request-Id': requestId,
    });
    res.end(json);
    this.options.metrics.restRequests.inc({ status: String(status) });
    this.options.log.debug(
      {
        method: req.method,
        path: url.pathname,
        status,
        results: body.resultsCount,
        ms: Math.round(performance.now() - started),
      },
      'rest request',
    );
  }

  private async respond(
    req: IncomingMessage,
    url: URL,
    requestId: string,
  ): Promise<{ status: number; body: Body }> {
    const error = (status: number, message: string, statusText = 'ERROR') => ({
      status,
      body: { status: statusText, request_id: requestId, error: message },
    });
    const injected = this.options.faults.takeRestFailure();
    if (injected !== undefined) return error(injected, 'Simulated server error (test hook)');

    if (req.method !== 'GET') return error(405, 'Method not allowed');
    const key = apiKeyOf(req, url);
    if (key === undefined) return error(400, 'API Key was not provided');
    if (key !== this.options.apiKey) return error(401, 'Unknown API Key');
    if (this.options.limiter && !this.options.limiter.tryAcquire(key)) return error(429, RATE_LIMIT_MESSAGE);

    if (!isAggsPath(url.pathname)) {
      return { status: 404, body: { status: 'NOT_FOUND', request_id: requestId, message: 'Not found' } };
    }
    const parsed = parseAggsRequest(url.pathname, url.searchParams);
    if (!parsed.ok) {
      return parsed.status === 404
        ? { status: 404, body: { status: 'NOT_FOUND', request_id: requestId, message: parsed.message } }
        : error(400, parsed.message);
    }
    return { status: 200, body: await this.aggregates(parsed.request, requestId, req) };
  }

  private async aggregates(request: AggsRequest, requestId: string, req: IncomingMessage): Promise<Body> {
    const calendar = barCalendar(request.multiplier, request.timespan);
    // Quotes of every bar that starts in the range, up to now: no quote from the future.
    const quotesEnd = Math.min(calendar.next(calendar.floor(request.toMs)), this.now() + 1);
    const window = new QuoteWindow(
      new QuoteGenerator(this.options.seed, request.symbol),
      quoteSegments(this.options.timeline, request.fromMs, quotesEnd),
    );
    const results: AggregateBar[] = [];
    let baseAggregates = 0;
    let nextBarStart: number | undefined;
    let sliceStarted = performance.now();
    for (const { bar, baseCount } of scanBars(window, calendar, request.fromMs, request.toMs, request.sort)) {
      // `limit` counts base aggregates; a bar that would exceed it starts the next page.
      if (results.length > 0 && baseAggregates + baseCount > request.limit) {
        nextBarStart = bar.t;
        break;
      }
      results.push(bar);
      baseAggregates += baseCount;
      if (performance.now() - sliceStarted > YIELD_EVERY_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        sliceStarted = performance.now();
      }
    }
    this.options.metrics.restBars.inc(results.length);
    const body: Body = {
      ticker: request.ticker,
      status: 'OK',
      adjusted: request.adjusted,
      queryCount: baseAggregates,
      resultsCount: results.length,
      request_id: requestId,
    };
    // Polygon leaves `results` out of an empty answer (polygon-forex.md §2.2).
    if (results.length > 0) body.results = results;
    if (nextBarStart !== undefined) body.next_url = `${baseUrlOf(req)}${nextPagePath(request, nextBarStart)}`;
    return body;
  }
}

/** `apiKey` query parameter or `Authorization: Bearer <key>`. */
function apiKeyOf(req: IncomingMessage, url: URL): string | undefined {
  const fromQuery = url.searchParams.get('apiKey');
  if (fromQuery) return fromQuery;
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  return bearer?.[1];
}

function baseUrlOf(req: IncomingMessage): string {
  const forwarded = req.headers['x-forwarded-proto'];
  const scheme = typeof forwarded === 'string' && forwarded ? forwarded.split(',')[0]!.trim() : 'http';
  return `${scheme}://${req.headers.host ?? 'localhost'}`;
}
