// The collector end to end against the Polygon simulator (in-process, real sockets) and a
// private nats-server: what a scripted feed becomes in JetStream, and how the collector
// behaves when the feed drops it, evicts it or refuses its key.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  LEVEL,
  readStream,
  startCollector,
  waitUntil,
  type RunningCollector,
} from '../../../test/support/collector.js';
import { metricValue } from '../../../test/support/metrics.js';
import { startPrivateNats, type PrivateNats } from '../../../test/support/private-nats.js';
import { RecordingClient, startTestSimulator, TEST_API_KEY } from '../../../test/support/simulator.js';
import { feedGapSchema, tickMessageId, tickSchema, type Tick } from '../contracts/messages.js';
import { FEED_GAP_SUBJECT, STREAMS } from '../contracts/subjects.js';
import type { Simulator } from '../simulator/simulator-server.js';

const SYMBOLS = 'EUR/USD,USD/JPY,XAU/USD,GBP/USD';
/** 2024-05-03 10:00:00 UTC: a 5-minute (and hourly) bar boundary. */
const B = 1714730400000;

const FIRST = `[{"ev":"C","p":"EUR/USD","x":48,"a":1.08523,"b":1.08521,"t":${B - 1}},{"ev":"C","p":"EUR/USD","x":48,"a":1.08524,"b":1.08522,"t":${B}}]`;
const SCRIPT = [
  // Two quotes either side of the bar boundary.
  FIRST,
  // `x` as a string, as in the provider's spec example.
  `[{"ev":"C","p":"USD/JPY","x":"48","a":151.237,"b":151.225,"t":${B + 50}}]`,
  // A status event and an unknown event type in the middle of the data.
  `[{"ev":"status","status":"success","message":"keepalive"},{"ev":"CA","pair":"EUR/USD","o":1.1,"c":1.1,"h":1.1,"l":1.1,"v":20,"s":${B - 60000}},{"ev":"C","p":"XAU/USD","x":48,"a":2351.45,"b":2351.1,"t":${B + 100}}]`,
  // The first frame again (a duplicate), then an older quote (out of order).
  FIRST,
  `[{"ev":"C","p":"EUR/USD","x":48,"a":1.0852,"b":1.08518,"t":${B - 1000}}]`,
  // Not JSON; then a quote that breaks the tick contract (negative bid).
  'not json',
  `[{"ev":"C","p":"EUR/USD","x":48,"a":1.0852,"b":-1,"t":${B + 200}}]`,
  // Same millisecond as a quote of the first frame, different prices: a different quote.
  `[{"ev":"C","p":"EUR/USD","x":48,"a":1.08525,"b":1.08523,"t":${B}}]`,
  `[{"ev":"C","p":"GBP/USD","x":48,"a":1.25101,"b":1.25099,"t":${B + 300}}]`,
];

function expectedTick(
  symbol: string,
  bid: number,
  ask: number,
  t: number,
  spread: number,
): Omit<Tick, 'ingested_at'> {
  return {
    symbol,
    bid,
    ask,
    mid: (bid + ask) / 2,
    spread,
    timestamp_ms: t,
    exchange: 48,
    source: 'polygon_websocket',
    event_type: 'quote',
  };
}

const EXPECTED = [
  expectedTick('EUR/USD', 1.08521, 1.08523, B - 1, 0.2),
  expectedTick('EUR/USD', 1.08522, 1.08524, B, 0.2),
  expectedTick('USD/JPY', 151.225, 151.237, B + 50, 1.2),
  expectedTick('XAU/USD', 2351.1, 2351.45, B + 100, 35),
  expectedTick('EUR/USD', 1.08518, 1.0852, B - 1000, 0.2),
  expectedTick('EUR/USD', 1.08523, 1.08525, B, 0.2),
  expectedTick('GBP/USD', 1.25099, 1.25101, B + 300, 0.2),
];

describe('collector with the Polygon simulator', () => {
  let nats: PrivateNats;
  let nc: NatsConnection;
  let simulator: Simulator | undefined;
  let running: RunningCollector | undefined;

  beforeEach(async () => {
    nats = await startPrivateNats();
    nc = await connect({ servers: nats.url });
  });

  afterEach(async () => {
    if (process.env.DEBUG_COLLECTOR_LOGS) console.log(running?.logs.map((l) => JSON.stringify(l)).join('\n'));
    await running?.collector.stop();
    running = undefined;
    await simulator?.close();
    simulator = undefined;
    await nc?.close();
    await nats?.close();
  });

  function collectorEnv(sim: Simulator, extra: Record<string, string> = {}): Record<string, string> {
    return {
      NATS_URL: nats.url,
      SYMBOLS,
      POLYGON_WS_URL: sim.webSocketUrl,
      POLYGON_API_KEY: TEST_API_KEY,
      ...extra,
    };
  }

  it('publishes every distinct quote of a scripted feed exactly once, with the tick fields', async () => {
    simulator = await startTestSimulator({ replay: { frames: SCRIPT, framesPerSecond: 0, loop: false } });
    running = await startCollector(collectorEnv(simulator));
    const { registry, collector } = running;

    await waitUntil('the script to be sent', () => simulator!.replay!.state().finished);
    await waitUntil(
      'the dead letter',
      async () => (await metricValue(registry, 'market_pipeline_collector_dead_lettered_total')) === 1,
    );
    await waitUntil(
      'all ticks confirmed',
      async () => (await metricValue(registry, 'market_pipeline_collector_ticks_published_total')) >= 9,
    );
    await collector.stop();

    const stored = await readStream(nc, STREAMS.ticks.name);
    const ticks = stored.map((m) => tickSchema.parse(m.json()));
    expect(ticks.map(({ ingested_at: _, ...rest }) => rest)).toEqual(
      EXPECTED.map((t) => ({ tenant_id: 'system', ...t })),
    );
    for (const [i, m] of stored.entries()) {
      expect(m.subject).toBe(`ticks.${ticks[i]!.symbol.replace('/', '')}`);
      expect(m.headers?.get('Nats-Msg-Id')).toBe(tickMessageId(ticks[i]!, 'system'));
      expect(Math.abs(Date.parse(ticks[i]!.ingested_at) - Date.now())).toBeLessThan(60_000);
    }

    // The bad quote went to the dead-letter subject of its symbol, with the reason.
    const letters = await readStream(nc, STREAMS.dlq.name);
    expect(letters.map((m) => m.subject)).toEqual(['dlq.ticks.EURUSD']);
    expect(letters[0]!.headers?.get('Mp-Dlq-Reason')).toMatch(/^b: /);
    expect(letters[0]!.json()).toMatchObject({ ev: 'C', b: -1 });

    const metric = (name: string, labels?: Record<string, string>) =>
      metricValue(registry, `market_pipeline_collector_${name}`, labels);
    expect(await metric('quotes_received_total', { symbol: 'EUR/USD' })).toBe(6);
    expect(await metric('quotes_received_total')).toBe(9);
    expect(await metric('ticks_published_total')).toBe(9);
    expect(await metric('ticks_duplicate_total')).toBe(2);
    expect(await metric('malformed_total', { kind: 'frame' })).toBe(1);
    expect(await metric('unknown_events_total', { ev: 'CA' })).toBe(1);
    expect(await metric('ticks_dropped_total')).toBe(0);
  }, 60_000);

  it('reconnects and re-subscribes after the feed drops it, and publishes the disconnect as a feed gap', async () => {
    simulator = await startTestSimulator({ symbols: ['EUR/USD', 'USD/JPY'], quotesPerSecond: 20 });
    running = await startCollector(collectorEnv(simulator, { SYMBOLS: 'EUR/USD,USD/JPY' }));
    const { registry, collector } = running;
    const received = () => metricValue(registry, 'market_pipeline_collector_quotes_received_total');
    await waitUntil('quotes', async () => (await received()) > 20);
    expect(collector.notReady()).toBeUndefined();

    const response = await fetch(`${simulator.restUrl}/admin/disconnect?mode=force_disconnect`, {
      method: 'POST',
    });
    expect(await response.json()).toEqual({ disconnected: 1 });
    const beforeReconnect = await received();
    await waitUntil('quotes after the reconnect', async () => (await received()) > beforeReconnect + 20);
    expect(collector.notReady()).toBeUndefined();
    expect(
      await metricValue(registry, 'market_pipeline_collector_reconnects_total', {
        reason: 'force_disconnect',
      }),
    ).toBe(1);
    const state = (await (await fetch(`${simulator.restUrl}/admin/state`)).json()) as {
      connections: { authenticated: boolean; pairs: string[] }[];
    };
    expect(state.connections).toEqual([
      expect.objectContaining({ authenticated: true, pairs: expect.arrayContaining(['EUR/USD', 'USD/JPY']) }),
    ]);

    // Only feed gaps: the events stream also holds the collector's coverage markers.
    const gapEvents = () => readStream(nc, STREAMS.events.name, FEED_GAP_SUBJECT);
    await waitUntil('the feed_gap event', async () => (await gapEvents()).length > 0);
    const [event, ...more] = await gapEvents();
    expect(more).toEqual([]);
    expect(event!.subject).toBe(FEED_GAP_SUBJECT);
    const gap = feedGapSchema.parse(event!.json());
    expect(gap).toMatchObject({ kind: 'disconnect', symbols: ['EUR/USD', 'USD/JPY'] });
    // The span runs from the last quote before the drop to the first one after it.
    const ticks = (await readStream(nc, STREAMS.ticks.name)).map((m) => tickSchema.parse(m.json()));
    const times = ticks.map((t) => t.timestamp_ms);
    expect(times).toContain(gap.start_ms);
    expect(times).toContain(gap.end_ms);
    expect(gap.end_ms).toBeGreaterThan(gap.start_ms);
    expect(times.filter((t) => t > gap.start_ms && t < gap.end_ms)).toEqual([]);
  }, 60_000);

  it('exits with code 1 and names POLYGON_API_KEY when Polygon refuses the key', async () => {
    simulator = await startTestSimulator();
    running = await startCollector(collectorEnv(simulator, { POLYGON_API_KEY: 'not-the-key' }));
    expect(await running.collector.done).toBe(1);
    const fatal = running.logs
      .filter((l) => l.level === LEVEL.fatal)
      .map((l) => `${l.msg} ${String(l.err ?? '')}`);
    expect(fatal.join('\n')).toContain('POLYGON_API_KEY');
    expect(fatal.join('\n')).toContain('auth_failed');
    expect(await metricValue(running.registry, 'market_pipeline_collector_reconnects_total')).toBe(0);
    expect(await metricValue(running.registry, 'market_pipeline_collector_feed_gaps_total')).toBe(0);
  }, 30_000);

  it('warns about a subscribed symbol that stays silent while the market is open (seed lesson 1)', async () => {
    // The simulator quotes EUR/USD only; AUD/USD is subscribed but never arrives.
    simulator = await startTestSimulator({ symbols: ['EUR/USD'], quotesPerSecond: 20 });
    running = await startCollector(
      collectorEnv(simulator, { SYMBOLS: 'EUR/USD,AUD/USD', COLLECTOR_STALE_AFTER_SECONDS: '1' }),
    );
    const { registry, logs } = running;
    await waitUntil('the silence warning', () =>
      logs.some((l) => l.level === LEVEL.warn && l.symbol === 'AUD/USD'),
    );
    expect(logs.filter((l) => l.level === LEVEL.warn && l.symbol !== undefined).map((l) => l.symbol)).toEqual(
      ['AUD/USD'],
    );
    expect(
      await metricValue(registry, 'market_pipeline_collector_symbol_silent', { symbol: 'AUD/USD' }),
    ).toBe(1);
    expect(
      await metricValue(registry, 'market_pipeline_collector_symbol_silent', { symbol: 'EUR/USD' }),
    ).toBe(0);
    expect(
      await metricValue(registry, 'market_pipeline_collector_last_quote_received_timestamp_seconds', {
        symbol: 'EUR/USD',
      }),
    ).toBeGreaterThan(Date.now() / 1000 - 10);
    // What the alert rules gate the silence on (the calendar this collector was given: open).
    expect(await metricValue(registry, 'market_pipeline_collector_market_open')).toBe(1);
  }, 30_000);

  it('logs an eviction by another connection with the same key, and comes back after a longer delay', async () => {
    simulator = await startTestSimulator({ symbols: ['EUR/USD'], quotesPerSecond: 20 });
    running = await startCollector(
      collectorEnv(simulator, { SYMBOLS: 'EUR/USD', COLLECTOR_EVICTED_RECONNECT_MS: '1500' }),
    );
    const { registry, collector, logs } = running;
    await waitUntil('ready', () => collector.notReady() === undefined);

    const intruder = await RecordingClient.connect(simulator.webSocketUrl);
    const evictedAt = Date.now();
    await intruder.authenticate();
    await waitUntil('the eviction to be logged', () =>
      logs.some((l) => l.level === LEVEL.error && /max_connections/.test(l.msg)),
    );
    expect(logs.find((l) => /max_connections/.test(l.msg))!.msg).toContain('same POLYGON_API_KEY');
    // The collector reconnects (evicting the intruder in turn), not before the eviction delay.
    await intruder.waitForClose(15_000);
    const reconnectedAfter = Date.now() - evictedAt;
    expect(reconnectedAfter).toBeGreaterThanOrEqual(750); // jittered 1500 ms: at least half
    await waitUntil('ready again', () => collector.notReady() === undefined);
    expect(
      await metricValue(registry, 'market_pipeline_collector_reconnects_total', {
        reason: 'max_connections',
      }),
    ).toBe(1);
    const delayLog = logs.find((l) => l.msg === 'reconnecting to Polygon' && l.reason === 'max_connections');
    expect(Number(delayLog?.delayMs)).toBeGreaterThanOrEqual(750);
  }, 60_000);

  it('creates the MARKET_EVENTS stream for feed gaps', async () => {
    simulator = await startTestSimulator({ symbols: ['EUR/USD'] });
    running = await startCollector(collectorEnv(simulator, { SYMBOLS: 'EUR/USD' }));
    const info = await (await jetstreamManager(nc)).streams.info(STREAMS.events.name);
    expect(info.config.subjects).toEqual(['events.>']);
  }, 30_000);
});
