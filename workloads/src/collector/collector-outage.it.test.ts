// The collector while NATS goes away under it (a private nats-server restarted while the
// simulator keeps sending quotes): it recovers by itself, loses nothing it confirmed or
// buffered, and reports what its bounded buffer had to drop as feed gaps.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  readStream,
  startCollector,
  waitUntil,
  type RunningCollector,
} from '../../../test/support/collector.js';
import { metricValue } from '../../../test/support/metrics.js';
import { startPrivateNats, type PrivateNats } from '../../../test/support/private-nats.js';
import { startTestSimulator, TEST_API_KEY } from '../../../test/support/simulator.js';
import { feedGapSchema, tickSchema, type FeedGap } from '../contracts/messages.js';
import { FEED_GAP_SUBJECT, STREAMS } from '../contracts/subjects.js';
import type { Simulator } from '../simulator/simulator-server.js';

const metric = (r: RunningCollector, name: string, labels?: Record<string, string>) =>
  metricValue(r.registry, `market_pipeline_collector_${name}`, labels);

describe('collector through a NATS outage', () => {
  let nats: PrivateNats;
  let nc: NatsConnection | undefined;
  let simulator: Simulator;
  let running: RunningCollector | undefined;

  beforeEach(async () => {
    nats = await startPrivateNats();
    simulator = await startTestSimulator({ symbols: ['EUR/USD', 'USD/JPY'], quotesPerSecond: 50 });
  });

  afterEach(async () => {
    await running?.collector.stop();
    running = undefined;
    await simulator?.close();
    await nc?.close();
    await nats?.close();
  });

  function start(extra: Record<string, string> = {}) {
    return startCollector({
      NATS_URL: nats.url,
      SYMBOLS: 'EUR/USD,USD/JPY',
      POLYGON_WS_URL: simulator.webSocketUrl,
      POLYGON_API_KEY: TEST_API_KEY,
      ...extra,
    });
  }

  /** Stops the collector (flushing its buffer) and reads what JetStream holds. */
  async function stopAndRead(r: RunningCollector) {
    await r.collector.stop();
    expect(await r.collector.done).toBe(0);
    nc = await connect({ servers: nats.url });
    const ticks = (await readStream(nc, STREAMS.ticks.name)).map((m) => tickSchema.parse(m.json()));
    // Only feed gaps: the events stream also holds the collector's coverage markers.
    const gaps = (await readStream(nc, STREAMS.events.name, FEED_GAP_SUBJECT)).map((m) =>
      feedGapSchema.parse(m.json()),
    );
    return { ticks, gaps };
  }

  it('recovers from a NATS restart by itself and stores every quote it received exactly once', async () => {
    running = await start();
    const r = running;
    await waitUntil('ticks confirmed', async () => (await metric(r, 'ticks_published_total')) > 100);
    await nats.restart(2000);
    const afterRestart = await metric(r, 'ticks_published_total');
    await waitUntil(
      'publishing to resume',
      async () => (await metric(r, 'ticks_published_total')) > afterRestart + 200,
    );
    await waitUntil('ready again', () => r.collector.notReady() === undefined);
    expect(await metric(r, 'publish_failures_total', { queue: 'ticks' })).toBeGreaterThan(0);

    const { ticks, gaps } = await stopAndRead(r);
    // Read after the stop: quotes keep arriving until the socket is closed.
    const received = await metric(r, 'quotes_received_total');
    expect(await metric(r, 'ticks_dropped_total')).toBe(0);
    expect(gaps).toEqual([]);
    const identities = new Set(ticks.map((t) => `${t.symbol}@${t.timestamp_ms}:${t.bid}/${t.ask}`));
    expect(identities.size).toBe(ticks.length);
    expect(ticks).toHaveLength(received);
  }, 90_000);

  it('drops the newest ticks when its buffer is full, and reports each dropped span as a feed gap', async () => {
    running = await start({ COLLECTOR_BUFFER_MAX_TICKS: '50' });
    const r = running;
    await waitUntil('ticks confirmed', async () => (await metric(r, 'ticks_published_total')) > 50);
    // About 300 quotes arrive while NATS is down: far more than the buffer holds.
    await nats.restart(3000);
    await waitUntil(
      'ticks dropped',
      async () => (await metric(r, 'ticks_dropped_total', { reason: 'buffer_full' })) > 0,
    );
    await waitUntil(
      'both overflow gaps',
      async () => (await metric(r, 'feed_gaps_total', { kind: 'buffer_overflow' })) >= 2,
    );
    const confirmedAtGap = await metric(r, 'ticks_published_total');
    await waitUntil(
      'publishing to resume',
      async () => (await metric(r, 'ticks_published_total')) > confirmedAtGap + 50,
    );

    const { ticks, gaps } = await stopAndRead(r);
    const received = await metric(r, 'quotes_received_total');
    const dropped = await metric(r, 'ticks_dropped_total', { reason: 'buffer_full' });
    expect(dropped).toBeGreaterThan(100);
    // Every quote is either stored or counted as dropped: nothing else went missing.
    expect(ticks.length + dropped).toBe(received);
    expect(await metric(r, 'ticks_dropped_total', { reason: 'shutdown' })).toBe(0);

    const overflow = gaps.filter((g) => g.kind === 'buffer_overflow');
    expect(new Set(overflow.map((g) => g.symbols.join()))).toEqual(new Set(['EUR/USD', 'USD/JPY']));
    for (const symbol of ['EUR/USD', 'USD/JPY']) {
      const spans: FeedGap[] = overflow.filter((g) => g.symbols[0] === symbol);
      const times = ticks.filter((t) => t.symbol === symbol).map((t) => t.timestamp_ms);
      for (const span of spans) {
        // Nothing of the symbol was stored inside its span, and stored ticks frame it.
        expect(times.filter((t) => t >= span.start_ms && t <= span.end_ms)).toEqual([]);
        expect(times.some((t) => t < span.start_ms)).toBe(true);
        expect(times.some((t) => t > span.end_ms)).toBe(true);
      }
    }
  }, 90_000);
});
