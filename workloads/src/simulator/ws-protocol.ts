// The text of Polygon's forex WebSocket protocol (polygon-forex.md §1): what the server
// sends (every frame a JSON array) and how client messages and topics are read.
import { z } from 'zod';
import { symbolFromPolygonPair } from '../contracts/symbols.js';
import type { Quote } from './quote-generator.js';

/** Venue id on every generated quote (Polygon's forex examples use 48). */
export const EXCHANGE_ID = 48;

/** Statuses the server sends, with Polygon's message texts where they are known. */
export const STATUS = {
  connected: ['connected', 'Connected Successfully'],
  authSuccess: ['auth_success', 'authenticated'],
  authFailed: ['auth_failed', 'authentication failed'],
  authTimeout: ['auth_timeout', 'authentication timed out'],
  authRequired: ['auth_required', 'you must authenticate before subscribing'],
  maxConnections: ['max_connections', 'Maximum number of connections exceeded.'],
  slowConsumer: ['slow_consumer', 'Connection closed: client is not reading fast enough.'],
  forceDisconnect: ['force_disconnect', 'Connection closed by the server.'],
} as const satisfies Record<string, readonly [string, string]>;

export function statusFrame(status: string, message: string): string {
  return JSON.stringify([{ ev: 'status', status, message }]);
}

export function knownStatusFrame(which: keyof typeof STATUS): string {
  const [status, message] = STATUS[which];
  return statusFrame(status, message);
}

/** One quote event, fields in Polygon's order; numbers print as JSON.stringify would. */
export function quoteEventJson(quote: Quote): string {
  return `{"ev":"C","p":"${quote.symbol}","x":${EXCHANGE_ID},"a":${quote.ask},"b":${quote.bid},"t":${quote.t}}`;
}

/** Joins serialized events into frames (JSON arrays) of at most `maxEvents` events. */
export function framesOf(events: readonly string[], maxEvents: number): string[] {
  const frames: string[] = [];
  for (let i = 0; i < events.length; i += maxEvents)
    frames.push(`[${events.slice(i, i + maxEvents).join(',')}]`);
  return frames;
}

const clientMessageSchema = z.object({
  action: z.string(),
  params: z.string().default(''),
});
export type ClientMessage = z.infer<typeof clientMessageSchema>;

export function parseClientMessage(text: string): ClientMessage | undefined {
  try {
    const result = clientMessageSchema.safeParse(JSON.parse(text));
    return result.success ? result.data : undefined;
  } catch {
    return undefined;
  }
}

export type Topic =
  /** A quote topic: one pair or all pairs ('*'). */
  | { kind: 'quotes'; text: string; pair: string }
  /** A well-formed topic of a channel the simulator does not stream (CA, CAS, …). */
  | { kind: 'unstreamed'; text: string }
  | { kind: 'invalid'; text: string };

/** `C.EUR/USD,C.*,CA.GBP/USD`: channel prefix, dot, pair (EUR/USD or EUR-USD) or `*`. */
export function parseTopics(params: string): Topic[] {
  return params
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)
    .map((text): Topic => {
      const dot = text.indexOf('.');
      const channel = text.slice(0, dot);
      const target = text.slice(dot + 1);
      if (dot <= 0 || !/^[A-Z]+$/.test(channel) || target === '') return { kind: 'invalid', text };
      if (channel !== 'C') return { kind: 'unstreamed', text };
      if (target === '*') return { kind: 'quotes', text, pair: '*' };
      const pair = symbolFromPolygonPair(target);
      return pair ? { kind: 'quotes', text, pair } : { kind: 'invalid', text };
    });
}
