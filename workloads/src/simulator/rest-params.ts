// Parsing and validation of the REST aggregates request, including the `cursor` of a
// `next_url`. A cursor is base64url of the page's query (`adjusted=…&limit=…&sort=…`),
// as in Polygon's observed cursors; the next page's range is in the path itself (its
// `from`, or `to` when sorting descending), so following next_url continues exactly.
import { z } from 'zod';
import { TIMESPANS, type Timespan } from './bars.js';

export const DEFAULT_LIMIT = 5000;
export const MAX_LIMIT = 50_000;
const DAY_MS = 86_400_000;

export interface AggsRequest {
  /** As written in the path, decoded (C:EURUSD). */
  ticker: string;
  symbol: string;
  multiplier: number;
  timespan: Timespan;
  /** Path segments as given (kept verbatim in next_url). */
  fromText: string;
  toText: string;
  /** Bar starts in [fromMs, toMs], both inclusive. */
  fromMs: number;
  toMs: number;
  adjusted: boolean;
  sort: 'asc' | 'desc';
  limit: number;
}

export type ParseResult =
  { ok: true; request: AggsRequest } | { ok: false; status: 400 | 404; message: string };

const AGGS_PATH = /^\/v2\/aggs\/ticker\/([^/]+)\/range\/([^/]+)\/([^/]+)\/([^/]+)\/([^/]+)\/?$/;
const FOREX_TICKER = /^C:([A-Z]{3})([A-Z]{3})$/;

export function isAggsPath(pathname: string): boolean {
  return AGGS_PATH.test(pathname);
}

const pageQuerySchema = z.object({
  adjusted: z.enum(['true', 'false']).default('true'),
  sort: z.enum(['asc', 'desc'], { message: "sort must be 'asc' or 'desc'" }).default('asc'),
  limit: z
    .string()
    .regex(/^\d+$/, 'limit must be a positive integer')
    .transform(Number)
    .pipe(z.number().int().min(1, 'limit must be a positive integer'))
    .default(DEFAULT_LIMIT),
});

export type PageQuery = { adjusted: boolean; sort: 'asc' | 'desc'; limit: number };

export function encodeCursor(page: PageQuery): string {
  const query = new URLSearchParams({
    adjusted: String(page.adjusted),
    limit: String(page.limit),
    sort: page.sort,
  });
  return Buffer.from(query.toString()).toString('base64url');
}

function decodeCursor(cursor: string): Record<string, string> | undefined {
  if (!/^[A-Za-z0-9_-]+=*$/.test(cursor)) return undefined;
  const query = new URLSearchParams(Buffer.from(cursor, 'base64url').toString('utf8'));
  const fields = Object.fromEntries(query);
  return Object.keys(fields).every((k) => k === 'adjusted' || k === 'limit' || k === 'sort') &&
    Object.keys(fields).length > 0
    ? fields
    : undefined;
}

/** `YYYY-MM-DD` (a whole UTC day) or Unix ms. */
function parseTime(text: string, edge: 'from' | 'to'): number | undefined {
  if (/^\d+$/.test(text)) return Number(text);
  const date = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!date) return undefined;
  const [year, month, day] = [Number(date[1]), Number(date[2]) - 1, Number(date[3])];
  const start = Date.UTC(year, month, day);
  const check = new Date(start);
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month || check.getUTCDate() !== day) {
    return undefined;
  }
  return edge === 'from' ? start : start + DAY_MS - 1;
}

export function parseAggsRequest(pathname: string, query: URLSearchParams): ParseResult {
  const match = AGGS_PATH.exec(pathname);
  if (!match) return { ok: false, status: 404, message: 'Not found' };
  const [, rawTicker, rawMultiplier, rawTimespan, fromText, toText] = match as unknown as string[];
  let ticker: string;
  try {
    ticker = decodeURIComponent(rawTicker!);
  } catch {
    return { ok: false, status: 404, message: 'Ticker not found' };
  }
  const pair = FOREX_TICKER.exec(ticker);
  if (!pair)
    return {
      ok: false,
      status: 404,
      message: `Ticker not found: ${ticker} is not a forex ticker (C:XXXYYY)`,
    };
  if (!/^\d+$/.test(rawMultiplier!) || Number(rawMultiplier) < 1) {
    return { ok: false, status: 400, message: "The parameter 'multiplier' must be a positive integer" };
  }
  if (!(TIMESPANS as readonly string[]).includes(rawTimespan!)) {
    return {
      ok: false,
      status: 400,
      message: `The parameter 'timespan' must be one of ${TIMESPANS.join(', ')}`,
    };
  }
  const fromMs = parseTime(fromText!, 'from');
  const toMs = parseTime(toText!, 'to');
  if (fromMs === undefined)
    return { ok: false, status: 400, message: "Could not parse the time parameter: 'from'" };
  if (toMs === undefined)
    return { ok: false, status: 400, message: "Could not parse the time parameter: 'to'" };
  if (toMs < fromMs) {
    return {
      ok: false,
      status: 400,
      message: "The parameter 'to' cannot be a time that occurs before 'from'",
    };
  }

  let fields: Record<string, string> = {};
  for (const key of ['adjusted', 'sort', 'limit']) {
    const value = query.get(key);
    if (value !== null) fields[key] = value;
  }
  const cursor = query.get('cursor');
  if (cursor !== null) {
    const decoded = decodeCursor(cursor);
    if (!decoded) return { ok: false, status: 400, message: 'Invalid cursor' };
    fields = { ...fields, ...decoded };
  }
  const page = pageQuerySchema.safeParse(fields);
  if (!page.success) return { ok: false, status: 400, message: page.error.issues[0]!.message };

  return {
    ok: true,
    request: {
      ticker,
      symbol: `${pair[1]}/${pair[2]}`,
      multiplier: Number(rawMultiplier),
      timespan: rawTimespan as Timespan,
      fromText: fromText!,
      toText: toText!,
      fromMs,
      toMs,
      adjusted: page.data.adjusted === 'true',
      sort: page.data.sort,
      limit: Math.min(page.data.limit, MAX_LIMIT),
    },
  };
}

/** Path and query of the page after the one that stopped before the bar at `nextBarStart`. */
export function nextPagePath(request: AggsRequest, nextBarStart: number): string {
  const from = request.sort === 'asc' ? String(nextBarStart) : request.fromText;
  // Descending pages continue below the last bar returned, which started after nextBarStart.
  const to = request.sort === 'asc' ? request.toText : String(nextBarStart);
  const cursor = encodeCursor({ adjusted: request.adjusted, limit: request.limit, sort: request.sort });
  return `/v2/aggs/ticker/${request.ticker}/range/${request.multiplier}/${request.timespan}/${from}/${to}?cursor=${cursor}`;
}
