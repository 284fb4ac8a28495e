// The backfill end to end against real servers: the Polygon simulator as Polygon, a private
// NATS (the product's stream names), the bridge in-process, and a ClickHouse (and
// PostgreSQL) database of this file's own with migrate applied; the Kafka archive on the
// shared broker with a topic of its own. Each test uses symbols of its own, so that they
// share one database and one bridge without seeing each other's bars.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { pino, type Logger } from 'pino';
import { Registry } from 'prom-client';
import {
  bridgeEnv,
  chRows,
  migrateInto,
  natsClient,
  startInProcess,
  type InProcessBridge,
  type NatsClient,
} from '../../../test/support/bridge-harness.js';
import { createTestDatabases, type TestDatabases } from '../../../test/support/databases.js';
import { kafkaBrokers, probeKafka, topicSize } from '../../../test/support/kafka.js';
import { barOutgoing, encode, makeBar } from '../../../test/support/market-messages.js';
import { startPrivateNats, type PrivateNats } from '../../../test/support/private-nats.js';
import { uniqueSuffix } from '../../../test/support/servers.js';
import { restRequestCount, startTestSimulator, TEST_API_KEY } from '../../../test/support/simulator.js';
import { waitFor } from '../../../test/support/wait.js';
import { barRow } from '../bridge/rows.js';
import { run, type RunOptions } from '../commands/backfill.js';
import { feedGapMessageId, type FeedGap } from '../contracts/messages.js';
import { FEED_GAP_SUBJECT, STREAMS } from '../contracts/subjects.js';
import type { Simulator } from '../simulator/simulator-server.js';
import { FEED_GAP_CONSUMER } from './feed-gaps.js';

jest.setTimeout(180_000);

const utc = (iso: string) => Date.parse(iso);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

interface Summary {
  msg: string;
  gapsFound: number;
  missingBars: number;
  rangesRequested: number;
  rangesEmpty: number;
  barsReceived: number;
  barsPublished: number;
  barsAnsweredEmpty: number;
  feedGapEvents: number;
  feedGapEventsDeadLettered: number;
  repairsPublished: number;
  repairsWaiting: number;
  firstRunSeries: number;
  restRequests: number;
  rateLimited: number;
  serverErrors: number;
}

/** A logger whose JSON lines the test reads back. */
function capturingLog(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { log, lines };
}

interface StoredBar {
  timestamp_ms: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  vwap: number;
  range_pips: number;
  body_pips: number;
  source: string;
  rank: number;
  end_time: string;
}

/** Polygon's answer read straight from the simulator (not through the product's client). */
async function simulatorBars(sim: Simulator, ticker: string, range: string, from: number, to: number) {
  const res = await fetch(
    `${sim.restUrl}/v2/aggs/ticker/${ticker}/range/${range}/${from}/${to}?limit=50000&apiKey=${TEST_API_KEY}`,
  );
  const body = (await res.json()) as {
    results?: { t: number; o: number; h: number; l: number; c: number; v: number; vw: number }[];
  };
  return body.results ?? [];
}

describe('market-pipeline backfill', () => {
  let nats: PrivateNats;
  let dbs: TestDatabases;
  let client: NatsClient;
  let bridge: InProcessBridge;
  let sim: Simulator;
  let simMetrics: Registry;

  beforeAll(async () => {
    nats = await startPrivateNats();
    dbs = await createTestDatabases();
    await migrateInto(dbs.env);
    client = await natsClient(nats);
    bridge = await startInProcess(bridgeEnv(nats, dbs.env));
    simMetrics = new Registry();
    sim = await startTestSimulator({}, simMetrics);
  }, 60_000);

  afterAll(async () => {
    await bridge?.bridge.stop();
    await sim?.close();
    await client?.close();
    await nats?.close();
    await dbs?.drop();
  });

  function env(extra: Record<string, string>): Record<string, string> {
    return {
      ...dbs.env,
      NATS_URL: nats.url,
      POLYGON_REST_URL: sim.restUrl,
      POLYGON_API_KEY: TEST_API_KEY,
      POLYGON_REST_REQUESTS_PER_MINUTE: '6000',
      BACKFILL_TIMEFRAMES: '5m,1h',
      LOG_LEVEL: 'info',
      ...extra,
    };
  }

  async function backfill(
    args: string[],
    extra: Record<string, string>,
    options: RunOptions = {},
  ): Promise<{ code: number; summary: Summary; lines: Record<string, unknown>[] }> {
    const { log, lines } = capturingLog();
    const code = await run(args, env(extra), {
      log,
      rest: { serverBackoff: { initialMs: 20, maxMs: 100 } },
      ...options,
    });
    const summary = lines.find((l) => String(l.msg).startsWith('backfill done')) as unknown as Summary;
    return { code, summary, lines };
  }

  async function stored(symbol: string, timeframe: string, from: number, to: number): Promise<StoredBar[]> {
    // UInt64 may come back as JSON strings: numbers here, whatever the server's setting.
    const rows = await chRows<StoredBar>(
      dbs,
      `SELECT timestamp_ms, open, high, low, close, volume, vwap, range_pips, body_pips, source,
              intDiv(version, 1000000000000000) AS rank, toString(end_time) AS end_time
         FROM aggregates FINAL
        WHERE symbol = {symbol:String} AND timeframe = {tf:String}
          AND timestamp_ms >= {from:UInt64} AND timestamp_ms < {to:UInt64}
        ORDER BY timestamp_ms`,
      { symbol, tf: timeframe, from, to },
    );
    return rows.map((r) => ({ ...r, timestamp_ms: Number(r.timestamp_ms), rank: Number(r.rank) }));
  }

  const barsWritten = () => bridge.metric('market_pipeline_bridge_messages_written_total', { kind: 'bar' });

  it('fills a known hole end to end (paged, through 5xx), then finds nothing to do and asks nothing', async () => {
    const brokers = kafkaBrokers();
    await probeKafka(brokers);
    const topic = `it_backfill_${uniqueSuffix()}`;
    // The trading week of Monday 2025-03-03 (EST: Friday closes 22:00 UTC), stored in full
    // but for a hole on Wednesday 10:00-11:00.
    const holeFrom = utc('2025-03-05T10:00:00Z');
    const holeTo = holeFrom + HOUR;
    const rows = [];
    for (const symbol of ['EUR/USD', 'USD/JPY']) {
      for (const [timeframe, step] of [
        ['5m', 5 * MINUTE],
        ['1h', HOUR],
      ] as const) {
        for (let t = utc('2025-03-03T00:00:00Z'); t < utc('2025-03-07T22:00:00Z'); t += step) {
          if (t >= holeFrom && t < holeTo) continue;
          rows.push(barRow(makeBar({ symbol, timeframe, timestamp_ms: t }), 'system'));
        }
      }
    }
    await dbs.ch.insert({ table: 'aggregates', values: rows, format: 'JSONEachRow' });

    const failures = await fetch(`${sim.restUrl}/admin/rest-failures?count=2&status=503`, { method: 'POST' });
    expect(failures.status).toBe(200);
    const requestsBefore = await restRequestCount(simMetrics);
    const window = ['--from', '2025-03-03T00:00:00Z', '--to', '2025-03-08T00:00:00Z'];
    const extra = {
      SYMBOLS: 'EUR/USD,USD/JPY',
      KAFKA_BROKERS: brokers.join(','),
      KAFKA_AGGREGATE_TOPIC: topic,
    };
    // 20 base aggregates (minutes) a page: the twelve 5m bars of the hole take three pages.
    const first = await backfill(window, extra, {
      rest: { pageLimit: 20, serverBackoff: { initialMs: 20, maxMs: 100 } },
    });
    expect(first.code).toBe(0);
    expect(first.summary).toMatchObject({
      gapsFound: 4,
      missingBars: 2 * (12 + 1),
      rangesRequested: 4,
      rangesEmpty: 0,
      barsPublished: 26,
      barsAnsweredEmpty: 0,
      serverErrors: 2,
      // Per symbol 3 pages (5m) + 1 (1h), plus the two 503s.
      restRequests: 2 * 4 + 2,
    });
    expect(await restRequestCount(simMetrics)).toBe(requestsBefore + 10);
    // One JSON line per range (not a terminal).
    expect(first.lines.filter((l) => l.msg === 'range done')).toHaveLength(4);

    for (const [symbol, ticker, pip] of [
      ['EUR/USD', 'C:EURUSD', 0.0001],
      ['USD/JPY', 'C:USDJPY', 0.01],
    ] as const) {
      const filled = await waitFor(
        `${symbol} hole filled in ClickHouse`,
        () => stored(symbol, '5m', holeFrom, holeTo),
        (b) => b.length === 12 && b.every((r) => r.source === 'polygon_historical'),
      );
      const polygon = await simulatorBars(sim, ticker, '5/minute', holeFrom, holeTo - 1);
      expect(polygon).toHaveLength(12);
      expect(filled).toEqual(
        polygon.map((p) => ({
          timestamp_ms: p.t,
          open: p.o,
          high: p.h,
          low: p.l,
          close: p.c,
          volume: p.v,
          vwap: p.vw,
          range_pips: Math.round(((p.h - p.l) / pip) * 1e6) / 1e6,
          body_pips: Math.round((Math.abs(p.c - p.o) / pip) * 1e6) / 1e6,
          source: 'polygon_historical',
          rank: 1,
          end_time: new Date(p.t + 5 * MINUTE).toISOString().replace('T', ' ').replace('Z', ''),
        })),
      );
      const hour = await waitFor(
        `${symbol} 1h bar`,
        () => stored(symbol, '1h', holeFrom, holeTo),
        (b) => b.length === 1,
      );
      const [polygonHour] = await simulatorBars(sim, ticker, '1/hour', holeFrom, holeFrom);
      expect([hour[0]!.open, hour[0]!.close, hour[0]!.volume]).toEqual([
        polygonHour!.o,
        polygonHour!.c,
        polygonHour!.v,
      ]);
      // Stored bars around the hole are untouched (a range may span them; they are not re-published).
      expect((await stored(symbol, '5m', holeFrom - 5 * MINUTE, holeFrom))[0]!.source).toBe(
        'live_aggregated',
      );
    }
    expect(
      await waitFor(
        'archived bars',
        () => topicSize(brokers, topic),
        (n) => n >= 26,
      ),
    ).toBe(26);

    const requestsAfterFirst = await restRequestCount(simMetrics);
    const second = await backfill(window, extra);
    expect(second.code).toBe(0);
    expect(second.summary).toMatchObject({
      gapsFound: 0,
      rangesRequested: 0,
      barsPublished: 0,
      restRequests: 0,
    });
    expect(await restRequestCount(simMetrics)).toBe(requestsAfterFirst);
  });

  it('covers the whole window on a first run, then only recent days; remembers what Polygon answered empty', async () => {
    // One quote every 10 minutes of history: every other 5-minute bar has no quote at all.
    const sparseMetrics = new Registry();
    const sparse = await startTestSimulator(
      { historyQuotesPerMinute: 0.1, liveFromMs: Date.now() + 86_400_000 },
      sparseMetrics,
    );
    try {
      const extra = {
        SYMBOLS: 'AUD/USD',
        POLYGON_REST_URL: sparse.restUrl,
        BACKFILL_WINDOW_DAYS: '3',
        BACKFILL_RECENT_DAYS: '1',
      };
      const nowMs = Date.now();
      const first = await backfill([], extra, { nowMs });
      expect(first.code).toBe(0);
      const s = first.summary;
      expect(s.firstRunSeries).toBe(2);
      expect(s.missingBars).toBeGreaterThan(0);
      expect(s.barsAnsweredEmpty).toBeGreaterThan(0);
      // Every missing bar either came back or is now known to be empty.
      expect(s.barsPublished + s.barsAnsweredEmpty).toBe(s.missingBars);
      const emptyRows = await chRows<{ n: string }>(
        dbs,
        "SELECT count() AS n FROM backfill_empty_ranges WHERE symbol = 'AUD/USD' AND timeframe = '5m'",
      );
      expect(Number(emptyRows[0]!.n)).toBeGreaterThan(0);
      await waitFor(
        'AUD/USD bars stored',
        async () =>
          (
            await chRows<{ n: string }>(
              dbs,
              "SELECT count() AS n FROM aggregates FINAL WHERE symbol = 'AUD/USD'",
            )
          )[0]!.n,
        (n) => Number(n) === s.barsPublished,
      );

      const before = await restRequestCount(sparseMetrics);
      const second = await backfill([], extra, { nowMs });
      expect(second.code).toBe(0);
      expect(second.summary).toMatchObject({
        firstRunSeries: 0,
        gapsFound: 0,
        rangesRequested: 0,
        restRequests: 0,
      });
      expect(await restRequestCount(sparseMetrics)).toBe(before);
    } finally {
      await sparse.close();
    }
  });

  it('stops with a clear error naming POLYGON_API_KEY on 401', async () => {
    const result = await backfill(['--from', '2025-03-05T00:00:00Z', '--to', '2025-03-06T00:00:00Z'], {
      SYMBOLS: 'EUR/CHF',
      POLYGON_API_KEY: 'not-the-key',
    });
    expect(result.code).toBe(1);
    const failure = result.lines.find((l) => String(l.msg).startsWith('backfill failed'));
    expect(String(failure?.msg)).toMatch(/HTTP 401.*check POLYGON_API_KEY/);
    expect(result.summary).toBeUndefined();
  });

  it('lets a live bar beat a historical one, whichever arrives first', async () => {
    const at = (hhmm: string) => utc(`2025-03-05T${hhmm}:00Z`);
    // Historical first: the backfill fills 10:00-10:10, then the aggregator's live bar for
    // 10:00 arrives (built earlier than the download, so only the rank can make it win).
    const filled = await backfill(['--from', '2025-03-05T10:00:00Z', '--to', '2025-03-05T10:15:00Z'], {
      SYMBOLS: 'GBP/USD',
      BACKFILL_TIMEFRAMES: '5m',
    });
    expect(filled.summary).toMatchObject({ missingBars: 3, barsPublished: 3 });
    await waitFor(
      'historical bars',
      () => stored('GBP/USD', '5m', at('10:00'), at('10:15')),
      (b) => b.length === 3,
    );
    const live = makeBar({
      symbol: 'GBP/USD',
      timestamp_ms: at('10:00'),
      ingested_at: '2025-03-05T10:05:01.000Z',
    });
    // Live first: a live bar for 10:20, then a historical one for it built later.
    const liveFirst = makeBar({ symbol: 'GBP/USD', timestamp_ms: at('10:20'), volume: 7 });
    const historicalLater = makeBar({
      symbol: 'GBP/USD',
      timestamp_ms: at('10:20'),
      source: 'polygon_historical',
      volume: 99,
      ingested_at: new Date().toISOString(),
    });
    const written = await barsWritten();
    await client.publish([barOutgoing(live), barOutgoing(liveFirst)]);
    await waitFor('live bars written', barsWritten, (n) => n >= written + 2);
    await client.publish([barOutgoing(historicalLater)]);
    await waitFor('historical bar written', barsWritten, (n) => n >= written + 3);

    const bars = await stored('GBP/USD', '5m', at('10:00'), at('10:25'));
    expect(bars.map((b) => [new Date(b.timestamp_ms).toISOString().slice(11, 16), b.source, b.rank])).toEqual(
      [
        ['10:00', 'live_aggregated', 2],
        ['10:05', 'polygon_historical', 1],
        ['10:10', 'polygon_historical', 1],
        ['10:20', 'live_aggregated', 2],
      ],
    );
    expect(bars.at(-1)!.volume).toBe(7);
  });

  it('repairs a recorded feed gap over the live bars, acks the event, and keeps unsettled repairs for later', async () => {
    const at = (hhmm: string) => utc(`2025-03-05T${hhmm}:00Z`);
    // Live bars built while the collector was disconnected 10:03:12-10:16:40: incomplete.
    const live = [
      ...['09:55', '10:00', '10:05', '10:10', '10:15', '10:20', '10:25'].map((t) =>
        makeBar({
          symbol: 'XAU/USD',
          timestamp_ms: at(t),
          open: 2300,
          high: 2301,
          low: 2299,
          close: 2300.5,
          volume: 3,
          vwap: 2300,
        }),
      ),
      ...['09:00', '10:00'].map((t) =>
        makeBar({
          symbol: 'XAU/USD',
          timeframe: '1h',
          timestamp_ms: at(t),
          open: 2300,
          high: 2301,
          low: 2299,
          close: 2300.5,
          volume: 3,
          vwap: 2300,
        }),
      ),
    ];
    const written = await barsWritten();
    await client.publish(live.map(barOutgoing));
    await waitFor('live bars written', barsWritten, (n) => n >= written + live.length);

    const gap: FeedGap = {
      kind: 'disconnect',
      symbols: ['XAU/USD', 'CHF/JPY'],
      start_ms: utc('2025-03-05T10:03:12Z'),
      end_ms: utc('2025-03-05T10:16:40Z'),
      detected_at: '2025-03-05T10:16:41.000Z',
    };
    const now = Date.now();
    const recent: FeedGap = {
      ...gap,
      symbols: ['XAU/USD'],
      start_ms: now - 3 * MINUTE,
      end_ms: now - MINUTE,
      detected_at: new Date(now).toISOString(),
    };
    const malformed = { ...gap, end_ms: gap.start_ms - 1 };
    await client.publish([
      { subject: FEED_GAP_SUBJECT, data: encode(gap), msgId: feedGapMessageId(gap, 'system') },
      { subject: FEED_GAP_SUBJECT, data: encode(recent), msgId: feedGapMessageId(recent, 'system') },
      { subject: FEED_GAP_SUBJECT, data: encode(malformed), msgId: 'malformed-gap' },
    ]);

    const window = ['--from', '2025-03-05T09:55:00Z', '--to', '2025-03-05T10:30:00Z'];
    const extra = { SYMBOLS: 'XAU/USD' };
    const result = await backfill(window, extra);
    expect(result.code).toBe(0);
    expect(result.summary).toMatchObject({
      feedGapEvents: 2,
      feedGapEventsDeadLettered: 1,
      repairsPublished: 2, // 5m and 1h of XAU/USD (CHF/JPY is not configured)
      repairsWaiting: 2, // the recent gap's bars have not settled
      gapsFound: 0,
      barsPublished: 4 + 1,
    });

    const polygon = await simulatorBars(sim, 'C:XAUUSD', '5/minute', at('10:00'), at('10:15'));
    const repaired = await waitFor(
      'repairs stored',
      () => stored('XAU/USD', '5m', at('09:55'), at('10:30')),
      (b) => b.filter((r) => r.rank === 3).length === 4,
    );
    expect(repaired.map((b) => [b.source, b.rank, b.volume])).toEqual([
      ['live_aggregated', 2, 3],
      ...polygon.map((p) => ['polygon_historical', 3, p.v]),
      ['live_aggregated', 2, 3],
      ['live_aggregated', 2, 3],
    ]);
    expect(repaired.slice(1, 5).map((b) => b.close)).toEqual(polygon.map((p) => p.c));
    const hours = await waitFor(
      '1h repair',
      () => stored('XAU/USD', '1h', at('09:00'), at('11:00')),
      (b) => b[1]?.rank === 3,
    );
    expect(hours.map((b) => b.rank)).toEqual([2, 3]);

    // The aggregator rebuilds the 10:05 bar after the repair: the repair still wins.
    const rebuilt = makeBar({
      ...live[2]!,
      volume: 4,
      close: 2300.6,
      high: 2301,
      ingested_at: new Date().toISOString(),
    });
    const before = await barsWritten();
    await client.publish([barOutgoing(rebuilt)]);
    await waitFor('rebuilt live bar written', barsWritten, (n) => n >= before + 1);
    expect((await stored('XAU/USD', '5m', at('10:05'), at('10:10')))[0]).toMatchObject({
      rank: 3,
      volume: polygon[1]!.v,
    });

    const consumer = await client.jsm.consumers.info(STREAMS.events.name, FEED_GAP_CONSUMER);
    expect([consumer.num_pending, consumer.num_ack_pending]).toEqual([0, 0]);
    const dead = await client.jsm.streams.getMessage(STREAMS.dlq.name, {
      last_by_subj: `dlq.${FEED_GAP_SUBJECT}`,
    });
    expect(dead?.header.get('Mp-Dlq-Reason')).toContain('end_ms');

    const again = await backfill(window, extra);
    expect(again.summary).toMatchObject({
      feedGapEvents: 0,
      repairsPublished: 0,
      repairsWaiting: 2,
      restRequests: 0,
    });
  });
});
