// What the Polygon (Massive) forex WebSocket sends, parsed at the boundary with zod.
// Every server frame is a JSON array that can mix quotes (`ev: "C"`), status events and
// event types we do not use; see /work/shared/reference/polygon-forex.md §1. Nothing in
// a frame can make the parser throw: each event ends up in exactly one of the buckets of
// ParsedFrame, so the caller can count and route it.
import { z } from 'zod';
import { symbolFromPolygonPair } from '../contracts/symbols.js';
import { describeIssues } from '../contracts/zod-issues.js';

/**
 * A price as the tick contract accepts it (positive, finite). The upper bound is far above
 * any FX or metal price and keeps mid = (bid + ask) / 2 and the spread finite.
 */
const price = z.number().positive().lt(1e9);

/** Venue id: an integer, which the provider's own spec example writes as a string ("44"). */
const exchange = z.union([
  z.number().int(),
  z
    .string()
    .regex(/^-?\d{1,9}$/)
    .transform(Number),
]);

const pair = z.string().transform((p, ctx) => {
  const symbol = symbolFromPolygonPair(p);
  if (symbol === undefined) {
    ctx.addIssue({ code: 'custom', message: `'${p}' is not a BASE/QUOTE pair` });
    return z.NEVER;
  }
  return symbol;
});

/** A quote event `{"ev":"C","p":"EUR/USD","x":48,"a":1.085,"b":1.0848,"t":1706198400123}`. */
export const quoteEventSchema = z
  .object({ ev: z.literal('C'), p: pair, x: exchange, a: price, b: price, t: z.number().int().nonnegative() })
  .transform((q) => ({ symbol: q.p, bid: q.b, ask: q.a, exchange: q.x, timestampMs: q.t }));
export type Quote = z.output<typeof quoteEventSchema>;

/** `{"ev":"status","status":"auth_success","message":"authenticated"}` and its kin. */
export const statusEventSchema = z
  .object({ ev: z.literal('status'), status: z.string(), message: z.string().optional() })
  .transform((s) => ({ status: s.status, message: s.message ?? '' }));
export type StatusEvent = z.output<typeof statusEventSchema>;

/** A quote event whose pair names a symbol but that fails the tick contract: a dead letter. */
export interface RejectedQuote {
  symbol: string;
  reason: string;
  /** The event as received (re-serialised), for the dead-letter message. */
  raw: string;
}

export interface MalformedEvent {
  reason: string;
  /** The start of what was received, for the log. */
  sample: string;
}

export interface ParsedFrame {
  quotes: Quote[];
  statuses: StatusEvent[];
  /** `ev` of every event type we do not handle (aggregates, FMV, future types). */
  unknown: string[];
  rejected: RejectedQuote[];
  malformed: MalformedEvent[];
  /** True when the whole frame was unusable (not JSON, not an array of objects). */
  malformedFrame: boolean;
}

const SAMPLE_CHARS = 200;

export function parseFrame(text: string): ParsedFrame {
  const frame: ParsedFrame = {
    quotes: [],
    statuses: [],
    unknown: [],
    rejected: [],
    malformed: [],
    malformedFrame: false,
  };
  let decoded: unknown;
  try {
    decoded = JSON.parse(text);
  } catch (error) {
    frame.malformedFrame = true;
    frame.malformed.push({
      reason: `not JSON: ${(error as Error).message}`,
      sample: text.slice(0, SAMPLE_CHARS),
    });
    return frame;
  }
  // Frames are arrays; a bare event object is tolerated rather than losing its data.
  const events = Array.isArray(decoded) ? decoded : isObject(decoded) ? [decoded] : undefined;
  if (!events) {
    frame.malformedFrame = true;
    frame.malformed.push({
      reason: 'frame is not a JSON array of events',
      sample: text.slice(0, SAMPLE_CHARS),
    });
    return frame;
  }
  for (const event of events) classify(event, frame);
  return frame;
}

function classify(event: unknown, frame: ParsedFrame): void {
  if (!isObject(event) || typeof event.ev !== 'string') {
    frame.malformed.push({ reason: 'event without a string `ev`', sample: sample(event) });
    return;
  }
  if (event.ev === 'C') {
    const plain = plainQuote(event);
    if (plain) {
      frame.quotes.push(plain);
      return;
    }
    const quote = quoteEventSchema.safeParse(event);
    if (quote.success) {
      frame.quotes.push(quote.data);
      return;
    }
    const symbol = typeof event.p === 'string' ? symbolFromPolygonPair(event.p) : undefined;
    const reason = describeIssues(quote.error, '(event)');
    if (symbol === undefined) frame.malformed.push({ reason: `quote: ${reason}`, sample: sample(event) });
    else frame.rejected.push({ symbol, reason, raw: JSON.stringify(event) });
    return;
  }
  if (event.ev === 'status') {
    const status = statusEventSchema.safeParse(event);
    if (status.success) frame.statuses.push(status.data);
    else
      frame.malformed.push({
        reason: `status: ${describeIssues(status.error, '(event)')}`,
        sample: sample(event),
      });
    return;
  }
  frame.unknown.push(event.ev);
}

/** Pair spellings seen, and their symbol; bounded, since the pair comes from the network. */
const pairSymbols = new Map<string, string | undefined>();
const PAIR_CACHE_MAX = 1024;

function cachedSymbol(pair: string): string | undefined {
  if (pairSymbols.has(pair)) return pairSymbols.get(pair);
  const symbol = symbolFromPolygonPair(pair);
  if (pairSymbols.size < PAIR_CACHE_MAX) pairSymbols.set(pair, symbol);
  return symbol;
}

/**
 * The common quote, checked without zod (which costs as much per quote as JSON.parse; the
 * collector's hot path, bench/collector-throughput.ts): numbers as numbers, a known pair,
 * within the schema's limits. It accepts a subset of what quoteEventSchema accepts, with
 * the same result (the unit tests hold them side by side); anything else goes through the
 * schema, which decides and explains.
 */
function plainQuote(event: Record<string, unknown>): Quote | undefined {
  const { p, x, a, b, t } = event;
  if (typeof p !== 'string' || typeof a !== 'number' || typeof b !== 'number') return undefined;
  if (typeof x !== 'number' || typeof t !== 'number') return undefined;
  if (!(a > 0 && a < 1e9 && b > 0 && b < 1e9)) return undefined;
  if (!Number.isSafeInteger(x) || !Number.isSafeInteger(t) || t < 0) return undefined;
  const symbol = cachedSymbol(p);
  if (symbol === undefined) return undefined;
  return { symbol, bid: b, ask: a, exchange: x, timestampMs: t };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sample(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.slice(0, SAMPLE_CHARS);
}

/** The auth answer: `auth_success`, or the 2019 server's `success` + "authenticated". */
export function isAuthSuccess(s: StatusEvent): boolean {
  return s.status === 'auth_success' || (s.status === 'success' && s.message === 'authenticated');
}

/** `subscribed to: C.EUR/USD` → `C.EUR/USD`; undefined for any other status. */
export function subscribedTopic(s: StatusEvent): string | undefined {
  const match = s.status === 'success' ? /^subscribed to:\s*(\S+)/.exec(s.message) : null;
  return match?.[1];
}
