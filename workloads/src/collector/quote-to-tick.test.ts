import { describe, expect, it } from '@jest/globals';
import { tickMessageId, tickSchema } from '../contracts/messages.js';
import { parseFrame, quoteEventSchema, type Quote } from './polygon-frames.js';
import { pipelineNames } from '../contracts/subjects.js';
import { TickEncoder } from './quote-to-tick.js';

const INGESTED = '2024-01-25T16:00:00.200Z';

function quote(symbol: string, bid: number, ask: number, extra: Partial<Quote> = {}): Quote {
  return { symbol, bid, ask, exchange: 48, timestampMs: 1706198400123, ...extra };
}

describe('quote → tick', () => {
  const encoder = new TickEncoder();

  it('computes mid and the spread in pips of each symbol', () => {
    const eurusd = encoder.toTick(quote('EUR/USD', 1.0848, 1.085), INGESTED);
    expect(eurusd.mid).toBeCloseTo(1.0849, 12);
    expect(eurusd.spread).toBe(2);
    expect(encoder.toTick(quote('USD/JPY', 151.225, 151.237), INGESTED).spread).toBe(1.2);
    expect(encoder.toTick(quote('XAU/USD', 2351.1, 2351.45), INGESTED).spread).toBe(35);
    expect(encoder.toTick(quote('XAG/USD', 29.512, 29.537), INGESTED).spread).toBe(25);
    // A crossed quote (ask below bid) passes through with a negative spread.
    expect(encoder.toTick(quote('EUR/USD', 1.085, 1.0848), INGESTED).spread).toBe(-2);
  });

  it('applies PIP_SIZES overrides', () => {
    const tick = new TickEncoder({ 'XAU/USD': 0.1 }).toTick(quote('XAU/USD', 2351.1, 2351.45), INGESTED);
    expect(tick.spread).toBe(3.5);
  });

  it('fills the fixed fields from the quote and the receipt time', () => {
    expect(encoder.toTick(quote('EUR/USD', 1.0848, 1.085), INGESTED)).toEqual({
      tenant_id: 'system',
      symbol: 'EUR/USD',
      bid: 1.0848,
      ask: 1.085,
      mid: (1.0848 + 1.085) / 2,
      spread: 2,
      timestamp_ms: 1706198400123,
      exchange: 48,
      source: 'polygon_websocket',
      event_type: 'quote',
      ingested_at: INGESTED,
    });
  });

  it('encodes the same tick as JSON, with the subject and the deterministic id', () => {
    for (const q of [quote('EUR/USD', 1.0848, 1.085), quote('USD/JPY', 151.225, 151.237, { exchange: -3 })]) {
      const out = encoder.encode(q, INGESTED);
      const tick = encoder.toTick(q, INGESTED);
      expect(JSON.parse(out.data as string)).toEqual(tick);
      expect(out.subject).toBe(`ticks.${q.symbol.replace('/', '')}`);
      expect(out.msgId).toBe(tickMessageId(tick, 'system'));
      expect(out.symbol).toBe(q.symbol);
      expect(out.timestampMs).toBe(q.timestampMs);
    }
  });

  it("names a pipeline's ticks after it: prefixed subject, tenant in the message, scoped id", () => {
    const names = pipelineNames({ pipelineId: 'market_fx-a', tenantId: 'acme' });
    const named = new TickEncoder({}, names);
    const q = quote('EUR/USD', 1.0848, 1.085);
    const out = named.encode(q, INGESTED);
    expect(out.subject).toBe('mp.market_fx-a.ticks.EURUSD');
    expect(JSON.parse(out.data as string)).toEqual(named.toTick(q, INGESTED));
    expect(tickSchema.parse(JSON.parse(out.data as string)).tenant_id).toBe('acme');
    // The same quote seen by another pipeline is another message (no cross-pipeline dedup).
    expect(out.msgId).toBe(tickMessageId(named.toTick(q, INGESTED), 'market_fx-a/acme'));
    expect(out.msgId).not.toBe(encoder.encode(q, INGESTED).msgId);
  });

  it('gives a replayed quote the same id whenever it arrives, and a different quote another', () => {
    const q = quote('EUR/USD', 1.0848, 1.085);
    expect(encoder.encode(q, INGESTED).msgId).toBe(encoder.encode(q, '2030-01-01T00:00:00.000Z').msgId);
    expect(encoder.encode(q, INGESTED).msgId).not.toBe(
      encoder.encode({ ...q, exchange: 49 }, INGESTED).msgId,
    );
  });

  it('builds a tick that passes the tick schema from every quote the boundary accepts', () => {
    // Edge values the quote schema lets through: the tick built from them must be valid
    // without re-validating it (the encoder relies on this).
    const events = [
      { ev: 'C', p: 'EUR/USD', x: 0, a: Number.MIN_VALUE, b: Number.MIN_VALUE, t: 0 },
      { ev: 'C', p: 'eur-usd', x: '-7', a: 999_999_999.99, b: 999_999_999.98, t: Number.MAX_SAFE_INTEGER },
      { ev: 'C', p: 'XAU/USD', x: 48, a: 1e-9, b: 5e8, t: 1706198400123, extra: 'ignored' },
      { ev: 'C', p: 'USD/JPY', x: '123456789', a: 151.237, b: 151.225, t: 1 },
    ];
    for (const event of events) {
      const parsed = quoteEventSchema.safeParse(event);
      expect(parsed.success).toBe(true);
      const data = encoder.encode(parsed.data!, INGESTED).data as string;
      expect(tickSchema.safeParse(JSON.parse(data)).error).toBeUndefined();
    }
    // And what would break the tick schema never reaches the encoder.
    for (const event of [
      { ev: 'C', p: 'EUR/USD', x: 48, a: 1e9, b: 1, t: 1 },
      { ev: 'C', p: 'EUR/USD', x: 48.5, a: 1, b: 1, t: 1 },
      { ev: 'C', p: 'EUR/USD', x: 48, a: 1, b: 1, t: -1 },
    ]) {
      expect(parseFrame(JSON.stringify([event])).rejected).toHaveLength(1);
    }
  });
});
