// The live data path end to end, on real servers: the simulator replays a fixed script of
// Polygon frames (ticks exactly on bar boundaries, same-millisecond quotes, duplicate and
// out-of-order frames) → collector → NATS → bridge → PostgreSQL; then the aggregator builds
// all seven timeframes over the script's range → NATS → bridge → ClickHouse. Every bar is
// compared with values computed here, independently of the product's code, and the Kafka
// archive must hold every tick exactly once.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';
import {
  bridgeEnv,
  chRows,
  migrateInto,
  startInProcess,
  tickCount,
  type InProcessBridge,
} from '../support/bridge-harness.js';
import { startCollector, waitUntil, type RunningCollector } from '../support/collector.js';
import { kafkaBrokers, probeKafka, readRecords, topicSize } from '../support/kafka.js';
import { startPrivateNats, type PrivateNats } from '../support/private-nats.js';
import { uniqueSuffix } from '../support/servers.js';
import { startTestSimulator, TEST_API_KEY } from '../support/simulator.js';
import { run as aggregate } from '../../workloads/src/commands/aggregate.js';
import type { Simulator } from '../../workloads/src/simulator/simulator-server.js';
import { startTickArchiver } from '../../workloads/src/collector/tick-archiver.js';

const SYMBOLS = ['EUR/USD', 'USD/JPY', 'XAU/USD'];
const PIP: Record<string, number> = { 'EUR/USD': 0.0001, 'USD/JPY': 0.01, 'XAU/USD': 0.01 };
const DECIMALS: Record<string, number> = { 'EUR/USD': 5, 'USD/JPY': 3, 'XAU/USD': 2 };
const BASE: Record<string, number> = { 'EUR/USD': 1.0761, 'USD/JPY': 153.42, 'XAU/USD': 2311.5 };

// Independent of contracts/timeframes.ts on purpose: the test states the conventions itself.
const MIN = 60_000;
const TF_MS: Record<string, number> = {
  '5m': 5 * MIN,
  '15m': 15 * MIN,
  '30m': 30 * MIN,
  '1h': 60 * MIN,
  '4h': 240 * MIN,
  '1d': 1440 * MIN,
  '1w': 7 * 1440 * MIN,
};
const pause = (ms: number) => new Promise<false>((r) => setTimeout(() => r(false), ms));
const MONDAY = Date.parse('1970-01-05T00:00:00Z');
const start = (tf: string, t: number) =>
  tf === '1w'
    ? MONDAY + Math.floor((t - MONDAY) / TF_MS[tf]!) * TF_MS[tf]!
    : Math.floor(t / TF_MS[tf]!) * TF_MS[tf]!;

// From Sunday evening through two Monday week starts.
const FROM = Date.parse('2024-05-05T21:00:00Z');
const TO = Date.parse('2024-05-14T03:00:00Z');
const BOUNDARIES = [
  '2024-05-06T00:00:00Z', // 1w, 1d, 4h, 1h … all start here
  '2024-05-07T04:00:00Z', // 4h
  '2024-05-08T00:00:00Z', // 1d
  '2024-05-09T13:35:00Z', // 5m only
  '2024-05-13T00:00:00Z', // the next week
].map(Date.parse);

interface Quote {
  p: string;
  x: number;
  a: number;
  b: number;
  t: number;
}

/** A deterministic script: quotes at random times plus quotes on and just before boundaries. */
function makeScript(): { frames: string[]; distinct: Quote[] } {
  let seed = 20240505;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const quotes: Quote[] = [];
  for (const p of SYMBOLS) {
    const round = (v: number) => Number(v.toFixed(DECIMALS[p]!));
    const quote = (t: number): Quote => {
      const mid = BASE[p]! * (1 + (random() - 0.5) * 0.004);
      const half = PIP[p]! * (0.5 + random() * 2);
      return { p, x: 48, b: round(mid - half), a: round(mid + half), t };
    };
    for (let i = 0; i < 250; i++) quotes.push(quote(FROM + Math.floor(random() * (TO - FROM))));
    for (const b of BOUNDARIES) quotes.push(quote(b), quote(b - 1), quote(b + 1));
    // Two different quotes in the same millisecond: both are real quotes.
    const t = BOUNDARIES[3]! + 7;
    quotes.push(quote(t), quote(t));
  }
  quotes.sort((q, r) => q.t - r.t);
  const frames: Quote[][] = [];
  for (let i = 0; i < quotes.length;) {
    const size = 1 + Math.floor(random() * 5);
    frames.push(quotes.slice(i, i + size));
    i += size;
  }
  // Out of order: swap neighbouring frames here and there. Duplicates: repeat some frames.
  for (let i = 1; i < frames.length; i += 7) [frames[i - 1], frames[i]] = [frames[i]!, frames[i - 1]!];
  const withDuplicates = frames.flatMap((f, i) => (i % 11 === 0 ? [f, f] : [f]));
  const key = (q: Quote) => `${q.p}|${q.t}|${q.b}|${q.a}|${q.x}`;
  const distinct = [...new Map(quotes.map((q) => [key(q), q])).values()];
  const text = withDuplicates.map((f) => JSON.stringify(f.map((q) => ({ ev: 'C', ...q }))));
  // A status event in the middle, as real feeds send.
  text.splice(5, 0, '[{"ev":"status","status":"success","message":"subscribed to: C.EUR/USD"}]');
  return { frames: text, distinct };
}

interface ExpectedBar {
  symbol: string;
  timeframe: string;
  timestamp_ms: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  vwap: number;
  range_pips: number;
  body_pips: number;
}

/** Bars as ARCHITECTURE.md defines them, ticks ordered by (time, bid, ask, exchange). */
function expectedBars(quotes: Quote[]): ExpectedBar[] {
  const out: ExpectedBar[] = [];
  for (const tf of Object.keys(TF_MS)) {
    const groups = new Map<string, Quote[]>();
    for (const q of quotes) {
      const k = `${q.p}|${start(tf, q.t)}`;
      groups.set(k, [...(groups.get(k) ?? []), q]);
    }
    for (const [k, qs] of groups) {
      qs.sort((q, r) => q.t - r.t || q.b - r.b || q.a - r.a || q.x - r.x);
      const mids = qs.map((q) => (q.b + q.a) / 2);
      const [symbol, startMs] = k.split('|') as [string, string];
      const high = Math.max(...mids);
      const low = Math.min(...mids);
      const pips = (d: number) => Math.round((d / PIP[symbol]!) * 1e6) / 1e6;
      out.push({
        symbol,
        timeframe: tf,
        timestamp_ms: Number(startMs),
        open: mids[0]!,
        high,
        low,
        close: mids.at(-1)!,
        volume: qs.length,
        vwap: mids.reduce((s, m) => s + m, 0) / mids.length,
        range_pips: pips(high - low),
        body_pips: pips(Math.abs(mids.at(-1)! - mids[0]!)),
      });
    }
  }
  const order = (b: ExpectedBar) => `${b.timeframe}|${b.symbol}|${String(b.timestamp_ms).padStart(15, '0')}`;
  return out.sort((a, b) => order(a).localeCompare(order(b)));
}

describe('live data path end to end', () => {
  const { frames, distinct } = makeScript();
  const topic = `it-tick-archive-${uniqueSuffix()}`;
  let nats: PrivateNats;
  let dbs: TestDatabases;
  let simulator: Simulator;
  let collector: RunningCollector;
  let bridge: InProcessBridge;

  beforeAll(async () => {
    await probeKafka(kafkaBrokers());
    nats = await startPrivateNats();
    dbs = await createTestDatabases();
    await migrateInto(dbs.env);
    // The script is from 2024: keep the bridge's retention (plain PostgreSQL) from deleting it.
    bridge = await startInProcess(bridgeEnv(nats, dbs.env, { TIMESCALEDB_RETENTION_DAYS: '36500' }));
    simulator = await startTestSimulator({ replay: { frames, framesPerSecond: 0, loop: false } });
    collector = await startCollector(
      {
        NATS_URL: nats.url,
        SYMBOLS: SYMBOLS.join(','),
        POLYGON_WS_URL: simulator.webSocketUrl,
        POLYGON_API_KEY: TEST_API_KEY,
        KAFKA_BROKERS: kafkaBrokers().join(','),
        KAFKA_TICK_TOPIC: topic,
      },
      { startCompanion: startTickArchiver },
    );
  });

  afterAll(async () => {
    await collector?.collector.stop();
    await simulator?.close();
    await bridge?.bridge.stop();
    await nats?.close();
    await dbs?.drop();
  });

  it('stores every distinct quote of the feed exactly once in PostgreSQL', async () => {
    let storedCount = 0;
    await waitUntil(
      `every distinct quote (${distinct.length}) in market_ticks`,
      async () => (storedCount = await tickCount(dbs)) >= distinct.length,
      60_000,
    ).catch(async (error: Error) => {
      const m = (name: string) => bridge.metric(`market_pipeline_bridge_${name}`).catch(() => -1);
      const counts = `received ${await m('messages_received_total')}, written ${await m('messages_written_total')}, duplicates ${await m('duplicate_ticks_total')}, dead letters ${await m('dead_letters_total')}`;
      throw new Error(`${error.message}: ${storedCount} stored; bridge ${counts}`);
    });
    // Give a stray duplicate the time to arrive before counting exactly.
    await new Promise((r) => setTimeout(r, 1000));
    const rows = await dbs.pg.query<{
      symbol: string;
      ms: string;
      bid: number;
      ask: number;
      mid: number;
      spread: number;
    }>(
      `SELECT symbol, timestamp_ms AS ms, bid, ask, mid, spread FROM market_ticks ORDER BY symbol, time, bid, ask`,
    );
    expect(rows.rows).toHaveLength(distinct.length);
    const stored = new Set(rows.rows.map((r) => `${r.symbol}|${r.ms}|${r.bid}|${r.ask}`));
    for (const q of distinct) expect(stored.has(`${q.p}|${q.t}|${q.b}|${q.a}`)).toBe(true);
    for (const r of rows.rows) {
      expect(r.mid).toBe((r.bid + r.ask) / 2);
      expect(r.spread).toBeCloseTo((r.ask - r.bid) / PIP[r.symbol]!, 6);
    }
  });

  it('builds every bar of the seven timeframes exactly as defined, through NATS into ClickHouse', async () => {
    const log = pino({ level: 'silent' });
    const args = [
      '--timeframe',
      'all',
      '--from',
      new Date(FROM).toISOString(),
      '--to',
      new Date(TO).toISOString(),
    ];
    const env = { ...dbs.env, NATS_URL: nats.url, SYMBOLS: SYMBOLS.join(',') };
    expect(await aggregate(args, env, { log })).toBe(0);

    const expected = expectedBars(distinct);
    type Row = ExpectedBar & { timestamp_ms: string; source: string };
    const read = () =>
      chRows<Row>(
        dbs,
        `SELECT symbol, timeframe, timestamp_ms, open, high, low, close, volume, vwap, range_pips, body_pips, source
           FROM aggregates FINAL ORDER BY timeframe, symbol, timestamp_ms`,
      );
    await waitUntil('every bar in ClickHouse', async () => (await read()).length >= expected.length, 60_000);
    const bars = (await read()).map((r) => ({ ...r, timestamp_ms: Number(r.timestamp_ms) }));
    const order = (b: { timeframe: string; symbol: string; timestamp_ms: number }) =>
      `${b.timeframe}|${b.symbol}|${String(b.timestamp_ms).padStart(15, '0')}`;
    bars.sort((a, b) => order(a).localeCompare(order(b)));

    expect(bars).toHaveLength(expected.length);
    bars.forEach((bar, i) => {
      const want = expected[i]!;
      expect({ ...bar, vwap: 0, source: undefined }).toEqual({ ...want, vwap: 0, source: undefined });
      expect(bar.vwap).toBeCloseTo(want.vwap, 10);
      expect(bar.source).toBe('live_aggregated');
    });
  });

  it('archives every tick to Kafka exactly once, keyed by symbol', async () => {
    const brokers = kafkaBrokers();
    await waitUntil(
      'the archive to hold every tick',
      async () => (await topicSize(brokers, topic).catch(() => 0)) >= distinct.length || (await pause(500)),
      60_000,
    );
    const records = await readRecords(brokers, topic, distinct.length);
    expect(await topicSize(brokers, topic)).toBe(distinct.length);
    const seen = new Set<string>();
    for (const r of records) {
      const tick = JSON.parse(r.value) as { symbol: string; timestamp_ms: number; bid: number; ask: number };
      // ARCHITECTURE.md: the key token of a symbol is EURUSD for EUR/USD.
      expect(r.key).toBe(tick.symbol.replace('/', ''));
      seen.add(`${tick.symbol}|${tick.timestamp_ms}|${tick.bid}|${tick.ask}`);
    }
    expect(seen.size).toBe(distinct.length);
  });
});
