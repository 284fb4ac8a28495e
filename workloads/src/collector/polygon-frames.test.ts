// Frames below are copied from real server output and the provider's own examples
// (/work/shared/reference/polygon-forex.md §1), not invented shapes (seed lesson 2).
import { describe, expect, it } from '@jest/globals';
import { isAuthSuccess, parseFrame, quoteEventSchema, subscribedTopic } from './polygon-frames.js';

const CONNECTED = '[{"ev":"status","status":"connected","message":"Connected Successfully"}]';
const AUTH_SUCCESS = '[{"ev":"status","status":"auth_success","message":"authenticated"}]';
// Real frame (client-jvm#11); the server closes the socket after it.
const AUTH_FAILED = '[{"ev":"status","status":"auth_failed","message":"authentication failed"}]';
// Real 2019 frame (client-examples#5): auth answered with "success", mixed with an ack.
const AUTH_2019 =
  '[{"message":"authenticated","ev":"status","status":"success"},{"ev":"status","status":"success","message":"subscribed to: C.AUD/USD"}]';
const MAX_CONNECTIONS =
  '[{"ev":"status","status":"max_connections","message":"Maximum number of connections exceeded."}]';
// The spec's quote example, with `x` as the integer the schema declares and as the string the example shows.
const QUOTE = '{"ev":"C","p":"USD/CNH","x":44,"a":6.83366,"b":6.83363,"t":1536036818784}';
const QUOTE_X_STRING = '{"ev":"C","p":"USD/CNH","x":"44","a":6.83366,"b":6.83363,"t":1536036818784}';
// The spec's minute-aggregate and FMV examples: events the collector does not use.
const AGGREGATE =
  '{"ev":"CA","pair":"USD/EUR","o":0.8687,"c":0.86889,"h":0.86889,"l":0.8686,"v":20,"s":1539145740000}';
const FMV = '{"ev":"FMV","fmv":1.0631,"sym":"C:EURUSD","t":1678220098130}';

const USD_CNH = { symbol: 'USD/CNH', bid: 6.83363, ask: 6.83366, exchange: 44, timestampMs: 1536036818784 };

describe('Polygon frame parsing', () => {
  it('reads the handshake statuses', () => {
    expect(parseFrame(CONNECTED).statuses).toEqual([
      { status: 'connected', message: 'Connected Successfully' },
    ]);
    const [success] = parseFrame(AUTH_SUCCESS).statuses;
    expect(isAuthSuccess(success!)).toBe(true);
    const [failed] = parseFrame(AUTH_FAILED).statuses;
    expect(failed).toEqual({ status: 'auth_failed', message: 'authentication failed' });
    expect(isAuthSuccess(failed!)).toBe(false);
    expect(parseFrame(MAX_CONNECTIONS).statuses[0]!.status).toBe('max_connections');
  });

  it("recognises the 2019 server's `success` auth answer and the subscription ack in one frame", () => {
    const frame = parseFrame(AUTH_2019);
    expect(frame.statuses).toHaveLength(2);
    expect(isAuthSuccess(frame.statuses[0]!)).toBe(true);
    expect(subscribedTopic(frame.statuses[0]!)).toBeUndefined();
    expect(isAuthSuccess(frame.statuses[1]!)).toBe(false);
    expect(subscribedTopic(frame.statuses[1]!)).toBe('C.AUD/USD');
  });

  it('reads a quote with `x` as a number or as a string, mapping a→ask and b→bid', () => {
    expect(parseFrame(`[${QUOTE}]`).quotes).toEqual([USD_CNH]);
    expect(parseFrame(`[${QUOTE_X_STRING}]`).quotes).toEqual([USD_CNH]);
  });

  it('splits a mixed frame: quotes, statuses and unknown event types, in order', () => {
    const second = QUOTE.replace('1536036818784', '1536036818785');
    const frame = parseFrame(
      `[${QUOTE},${AGGREGATE},{"ev":"status","status":"success","message":"subscribed to: C.USD/CNH"},${FMV},${second}]`,
    );
    expect(frame.quotes.map((q) => q.timestampMs)).toEqual([1536036818784, 1536036818785]);
    expect(frame.statuses.map(subscribedTopic)).toEqual(['C.USD/CNH']);
    expect(frame.unknown).toEqual(['CA', 'FMV']);
    expect(frame.malformed).toEqual([]);
    expect(frame.rejected).toEqual([]);
    expect(frame.malformedFrame).toBe(false);
  });

  it('accepts the EUR-USD spelling of the newest docs as EUR/USD', () => {
    const frame = parseFrame('[{"ev":"C","p":"EUR-USD","x":48,"a":1.085,"b":1.0848,"t":1}]');
    expect(frame.quotes[0]!.symbol).toBe('EUR/USD');
  });

  it('reports a frame that is not a JSON array of events as malformed, without throwing', () => {
    for (const text of ['not json', '[{"ev":"C"', '42', '"text"', 'null']) {
      const frame = parseFrame(text);
      expect(frame.malformedFrame).toBe(true);
      expect(frame.malformed).toHaveLength(1);
      expect(frame.quotes).toEqual([]);
    }
    // A bare event object is read as a one-event frame rather than losing its quote.
    expect(parseFrame(QUOTE).quotes).toEqual([USD_CNH]);
  });

  it('counts malformed events and keeps the good ones of the same frame', () => {
    const frame = parseFrame(`[1,null,{"ev":5},{"status":"x"},{"ev":"status"},${QUOTE}]`);
    expect(frame.quotes).toEqual([USD_CNH]);
    expect(frame.malformed).toHaveLength(5);
    expect(frame.malformed[4]!.reason).toContain('status');
    expect(frame.malformedFrame).toBe(false);
  });

  it('rejects a quote that breaks the tick contract with the reason, naming its symbol', () => {
    const bad = [
      ['{"ev":"C","p":"EUR/USD","x":48,"a":1.085,"b":-1,"t":1}', 'b'],
      ['{"ev":"C","p":"EUR/USD","x":48,"a":0,"b":1.0848,"t":1}', 'a'],
      ['{"ev":"C","p":"EUR/USD","x":48,"a":"1.085","b":1.0848,"t":1}', 'a'],
      ['{"ev":"C","p":"EUR/USD","x":48,"a":1.085,"b":1.0848,"t":1.5}', 't'],
      ['{"ev":"C","p":"EUR/USD","x":48,"a":1.085,"b":1.0848,"t":-1}', 't'],
      ['{"ev":"C","p":"EUR/USD","x":"4x","a":1.085,"b":1.0848,"t":1}', 'x'],
      ['{"ev":"C","p":"EUR/USD","x":48,"a":1.085,"b":1.0848}', 't'],
    ] as const;
    for (const [event, field] of bad) {
      const frame = parseFrame(`[${event}]`);
      expect(frame.quotes).toEqual([]);
      expect(frame.rejected).toHaveLength(1);
      expect(frame.rejected[0]!.symbol).toBe('EUR/USD');
      expect(frame.rejected[0]!.reason).toMatch(new RegExp(`^${field}: `));
      expect(JSON.parse(frame.rejected[0]!.raw)).toEqual(JSON.parse(event));
    }
  });

  it('counts a quote without a usable pair as malformed (no symbol to dead-letter it under)', () => {
    for (const event of [
      '{"ev":"C","x":48,"a":1.085,"b":1.0848,"t":1}',
      '{"ev":"C","p":"EURUSD","x":48,"a":1.085,"b":1.0848,"t":1}',
    ]) {
      const frame = parseFrame(`[${event}]`);
      expect(frame.rejected).toEqual([]);
      expect(frame.malformed).toHaveLength(1);
      expect(frame.malformed[0]!.reason).toMatch(/^quote: p: /);
    }
  });

  it('reads every quote as the schema does, whether or not it takes the path without zod', () => {
    // Edge cases on each side of the schema's limits; the parser's quick check must agree.
    const base = { ev: 'C', p: 'EUR/USD', x: 48, a: 1.0851, b: 1.0849, t: 1767607200123 };
    const variants: Record<string, unknown>[] = [
      base,
      { ...base, p: 'eur-usd' },
      { ...base, p: ' EUR/USD ' },
      { ...base, p: 'EURUSD' },
      { ...base, p: 7 },
      { ...base, x: '48' },
      { ...base, x: 48.5 },
      { ...base, x: -1 },
      { ...base, x: 2 ** 53 },
      { ...base, a: 0 },
      { ...base, b: -1.08 },
      { ...base, a: 999_999_999.99 },
      { ...base, a: 1e9 },
      { ...base, b: '1.0849' },
      { ...base, t: 0 },
      { ...base, t: -5 },
      { ...base, t: 1767607200123.5 },
      { ...base, t: '1767607200123' },
      { ...base, extra: 'ignored' },
      { ev: 'C', p: 'EUR/USD', a: 1.0851, b: 1.0849, t: 1767607200123 },
    ];
    for (const event of variants) {
      const expected = quoteEventSchema.safeParse(event);
      const frame = parseFrame(JSON.stringify([event]));
      if (expected.success) expect(frame.quotes).toEqual([expected.data]);
      else expect(frame.quotes).toEqual([]);
    }
  });
});
