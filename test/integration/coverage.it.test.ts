// Every bar right in the end (issue 12), end to end on real servers: the simulator as Polygon,
// the collector and bridge in-process, the aggregator and gap filler as their commands, a
// private NATS and fresh databases. The simulator's quotes are a function of (seed, symbol,
// time), so its REST bars are what a complete feed would have given: the ground truth.
//
// The whole pipeline runs on one shifted, 20× fast clock (simulator and collector share it)
// that starts on a Sunday evening, in forex hours, just before every timeframe's bar closes at
// Monday 00:00 UTC. The story, in simulated time:
//   23:41:30  collector A starts (a fresh pipeline, mid-window)
//   23:51:00  A is stopped; 40 s later collector B starts (a real SIGKILL of the collector
//             process, and what its coverage claims, is collector-process-coverage.it.test.ts;
//             here the 40 s hole and the bars around it matter, whatever ended the process)
//   23:56:00  B is stopped with SIGTERM (graceful); 10 s later collector C starts
//   00:00     all seven timeframes close: the aggregator marks every bar it cannot vouch for
//             partial; the gap filler replaces them with Polygon's; the 23:45 5m bar (fully
//             covered) is complete and untouched
//   then      the bridge is stopped longer than the look-back, and a tick arrives a day late.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { createLogger } from '../../workloads/src/runtime/logger.js';
import { run as runAggregate } from '../../workloads/src/commands/aggregate.js';
import { run as runBackfill } from '../../workloads/src/commands/backfill.js';
import { awaitCoverage } from '../../workloads/src/aggregator/coverage.js';
import { SEED_NAMES } from '../../workloads/src/contracts/subjects.js';
import {
  POLYGON_RANGE,
  TIMEFRAMES,
  barStart,
  type Timeframe,
} from '../../workloads/src/contracts/timeframes.js';
import { QuoteGenerator } from '../../workloads/src/simulator/quote-generator.js';
import type { Simulator } from '../../workloads/src/simulator/simulator-server.js';
import { startCollector, type RunningCollector } from '../support/collector.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';
import {
  bridgeEnv,
  chRows,
  migrateInto,
  natsClient,
  startInProcess,
  type InProcessBridge,
  type NatsClient,
} from '../support/bridge-harness.js';
import { startPrivateNats, type PrivateNats } from '../support/private-nats.js';
import { startTestSimulator, TEST_API_KEY } from '../support/simulator.js';
import { waitFor } from '../support/wait.js';

const SPEED = 20;
const MIN = 60_000;
const SYMBOL = 'EUR/USD';
/** Subscribed, never quoted by the simulator: a pair that goes quiet. */
const SILENT = 'GBP/USD';
const SEED = 7;

/** Monday 00:00 UTC of the current week, then the Sunday evening before it, a week back. */
const MONDAY = barStart('1w', Date.now()) - 7 * 24 * 60 * MIN;
const at = (hh: number, mm: number, ss = 0) => MONDAY - 24 * 60 * MIN + ((hh * 60 + mm) * 60 + ss) * 1000;
const START = at(23, 41, 30);
const realStart = Date.now();
const clock = () => START + (Date.now() - realStart) * SPEED;

const quiet = createLogger('test', process.env.TEST_LOG_LEVEL ?? 'silent');

interface StoredBar {
  symbol: string;
  timeframe: Timeframe;
  timestamp_ms: string;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  version: string;
}
interface TruthBar {
  t: number;
  o: number;
  h: number;
  l: number;
  c: number;
  v: number;
}

let nats: PrivateNats;
let dbs: TestDatabases;
let sim: Simulator;
let client: NatsClient;
let bridge: InProcessBridge | undefined;
let collector: RunningCollector | undefined;
let env: Record<string, string>;
/** The market_ticks row of the quote committed a day late. */
let held: Record<string, unknown> & { bid: number };
const LATE_MS = at(23, 47, 3);

async function tickAt(ms: number) {
  return (
    await dbs.pg.query('SELECT 1 FROM market_ticks WHERE symbol = $1 AND timestamp_ms = $2', [SYMBOL, ms])
  ).rows;
}

async function untilSim(ms: number): Promise<void> {
  const wait = (ms - clock()) / SPEED;
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}

function startC(): Promise<RunningCollector> {
  return startCollector(
    {
      NATS_URL: nats.url,
      SYMBOLS: `${SYMBOL},${SILENT}`,
      POLYGON_WS_URL: sim.webSocketUrl,
      POLYGON_API_KEY: TEST_API_KEY,
      COLLECTOR_COVERAGE_INTERVAL_MS: '250',
      // 20 s of simulated time is 1 s of real time: quotes still on their way at a checkpoint.
      COLLECTOR_COVERAGE_SKEW_MS: '20000',
    },
    { clock },
  );
}

async function aggregate(args: string[], extra: Record<string, string> = {}) {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger('aggregator', 'info', { write: (l: string) => void lines.push(JSON.parse(l)) });
  const code = await runAggregate(args, { ...env, ...extra }, { log });
  const summary = lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('aggregated'));
  expect({ code, failure: code === 0 ? undefined : lines.at(-1) }).toEqual({ code: 0, failure: undefined });
  return summary as {
    partial: number;
    partialBars?: { timeframe: Timeframe; startMs: number }[];
    lateBars: number;
    uncoveredSeconds: Record<string, number>;
  };
}

async function stored(): Promise<Map<string, StoredBar>> {
  const rows = await chRows<StoredBar>(
    dbs,
    `SELECT symbol, timeframe, timestamp_ms, open, high, low, close, volume, toString(version) AS version
       FROM aggregates FINAL WHERE symbol = {s:String}`,
    { s: SYMBOL },
  );
  return new Map(rows.map((r) => [`${r.timeframe}@${Number(r.timestamp_ms)}`, r]));
}

const key = (tf: Timeframe, startMs: number) => `${tf}@${startMs}`;
const rank = (b: StoredBar | undefined) => (b ? Number(BigInt(b.version) / 10n ** 15n) : undefined);

/** The simulator's REST bar of one window: the ground truth. */
async function truth(tf: Timeframe, startMs: number): Promise<TruthBar> {
  const { multiplier, timespan } = POLYGON_RANGE[tf];
  const url = `${sim.restUrl}/v2/aggs/ticker/C:EURUSD/range/${multiplier}/${timespan}/${startMs}/${startMs}?adjusted=true&sort=asc&limit=50000`;
  const res = await fetch(url, { headers: { Authorization: `Bearer ${TEST_API_KEY}` } });
  const body = (await res.json()) as { results?: TruthBar[] };
  const bar = body.results?.find((b) => b.t === startMs);
  if (!bar) throw new Error(`no REST bar ${tf} ${new Date(startMs).toISOString()}`);
  return bar;
}

function same(bar: StoredBar | undefined, t: TruthBar) {
  return (
    bar !== undefined &&
    [bar.open, bar.high, bar.low, bar.close, bar.volume].join() === [t.o, t.h, t.l, t.c, t.v].join()
  );
}

/** The bars of every timeframe that end at Monday 00:00 or contain the 5m bar at `fiveMinStart`. */
function barsAround(fiveMinStart: number): [Timeframe, number][] {
  return TIMEFRAMES.map((tf) => [tf, barStart(tf, fiveMinStart)]);
}

beforeAll(async () => {
  nats = await startPrivateNats();
  dbs = await createTestDatabases();
  await migrateInto(dbs.env);
  client = await natsClient(nats);
  sim = await startTestSimulator(
    {
      symbols: [SYMBOL],
      seed: SEED,
      quotesPerSecond: 2,
      liveFromMs: START - 60 * MIN,
      now: clock,
      maxCatchUpMs: 60 * MIN,
    },
    new Registry(),
  );
  env = {
    ...dbs.env,
    NATS_URL: nats.url,
    SYMBOLS: `${SYMBOL},${SILENT}`,
    LOG_LEVEL: 'info',
    AGGREGATE_LOOKBACK_BARS: '3',
    AGGREGATE_WATERMARK_WAIT_SECONDS: '10',
    POLYGON_REST_URL: sim.restUrl,
    POLYGON_API_KEY: TEST_API_KEY,
    POLYGON_REST_REQUESTS_PER_MINUTE: '6000',
    BACKFILL_SETTLE_MINUTES: '0',
    BACKFILL_WINDOW_DAYS: '1',
  };
  bridge = await startInProcess(bridgeEnv(nats, dbs.env));
}, 60_000);

afterAll(async () => {
  await collector?.collector.stop();
  await bridge?.bridge.stop();
  await client?.close();
  await sim?.close();
  await nats?.stop();
  await dbs?.drop();
});

describe('coverage-aware bars across a fresh start, a 40 s outage, a graceful restart, bridge lag and a late tick', () => {
  let before: Map<string, StoredBar>;
  const affected = [at(23, 40), at(23, 50), at(23, 55)];
  const complete5m = at(23, 45);

  it('publishes as complete only the bar whose window was covered and committed; every other one partial', async () => {
    collector = await startC();
    await untilSim(at(23, 51));
    await collector.collector.stop();
    await untilSim(at(23, 51, 40));
    collector = await startC();
    await untilSim(at(23, 56));
    await collector.collector.stop();
    await untilSim(at(23, 56, 10));
    collector = await startC();
    await untilSim(at(24, 0, 25));

    // One quote of the fully covered 23:45 bar is held back from the database (it will be
    // committed a day late, in the last test): the bar is built without it.
    await waitFor(
      'the quote stored',
      () => tickAt(LATE_MS),
      (rows) => rows.length === 1,
    );
    held = (
      await dbs.pg.query('DELETE FROM market_ticks WHERE symbol = $1 AND timestamp_ms = $2 RETURNING *', [
        SYMBOL,
        LATE_MS,
      ])
    ).rows[0];
    expect(held.bid).toBe(new QuoteGenerator(SEED, SYMBOL).quoteAt(LATE_MS).bid);

    const summary = await aggregate(['--timeframe', 'all', '--now', new Date(MONDAY).toISOString()]);
    await waitFor(
      'bars stored',
      stored,
      (m) => m.has(key('1w', barStart('1w', at(23, 0)))) && m.has(key('5m', complete5m)),
    );
    before = await stored();

    // The fully covered 5m bar is complete (rank 2): Polygon's bar but for the held-back quote.
    expect(rank(before.get(key('5m', complete5m)))).toBe(2);
    const t5 = await truth('5m', complete5m);
    expect(before.get(key('5m', complete5m))?.volume).toBe(t5.v - 1);
    // Fresh start, 40 s outage, SIGTERM: those 5m bars and every longer bar are partial (rank 0).
    for (const start of affected) expect([start, rank(before.get(key('5m', start)))]).toEqual([start, 0]);
    for (const [tf, start] of barsAround(complete5m).filter(([tf]) => tf !== '5m')) {
      expect([tf, rank(before.get(key(tf, start)))]).toEqual([tf, 0]);
    }
    expect(summary.partial).toBeGreaterThanOrEqual(9);
    expect(summary.uncoveredSeconds[SYMBOL]).toBeGreaterThan(0);

    // A pair that is silent while the connection is up is covered; and so is the weekend.
    const coverage = await awaitCoverage(
      { pool: dbs.pg, jsm: client.jsm, names: SEED_NAMES, tenantId: 'system', hours: 'forex' },
      [SILENT],
      at(23, 45),
      at(23, 50),
      0,
    );
    expect(coverage.uncoveredMs(SILENT, at(23, 45), at(23, 50))).toBe(0);
    expect(coverage.uncoveredMs(SILENT, at(23, 51, 30), at(23, 51, 35))).toBe(5000);
    // Saturday 00:00 to Sunday 21:00 UTC: the weekend, before the Sunday open (22:00 or 21:00 UTC).
    expect(coverage.uncoveredMs(SILENT, MONDAY - 2 * 24 * 60 * MIN, MONDAY - 27 * 60 * MIN)).toBe(0);
  }, 120_000);

  it('repairs every affected bar of every timeframe to the ground truth and leaves the complete bar alone', async () => {
    const code = await runBackfill([], env, { nowMs: clock(), log: quiet });
    expect(code).toBe(0);
    const targets: [Timeframe, number][] = [
      ...affected.map((s): [Timeframe, number] => ['5m', s]),
      ...barsAround(complete5m).filter(([tf]) => tf !== '5m'),
      ['15m', at(23, 30)],
    ];
    const after = await waitFor('partial bars replaced', stored, (m) =>
      targets.every(([tf, s]) => (rank(m.get(key(tf, s))) ?? 0) >= 1),
    );
    for (const [tf, start] of targets) {
      const t = await truth(tf, start);
      expect([tf, new Date(start).toISOString(), same(after.get(key(tf, start)), t)]).toEqual([
        tf,
        new Date(start).toISOString(),
        true,
      ]);
    }
    // Unaffected: the complete live bar kept its version.
    expect(after.get(key('5m', complete5m))?.version).toBe(before.get(key('5m', complete5m))?.version);

    // The repair survives a later scheduled run that builds the same windows from the same ticks.
    await aggregate(['--timeframe', 'all', '--now', new Date(MONDAY).toISOString()]);
    await new Promise((r) => setTimeout(r, 1500));
    const again = await stored();
    for (const [tf, start] of targets)
      expect(same(again.get(key(tf, start)), await truth(tf, start))).toBe(true);
  }, 120_000);

  it('rebuilds the bars built while the bridge was down longer than the look-back, once their ticks are committed', async () => {
    const from = barStart('5m', clock()) + 5 * MIN; // the next whole 5m bar
    await untilSim(from + 60_000);
    await bridge!.bridge.stop();
    await untilSim(from + 5 * MIN + 20_000);
    const during = await aggregate(['--timeframe', '5m', '--now', new Date(from + 5 * MIN).toISOString()], {
      AGGREGATE_LOOKBACK_BARS: '0',
      AGGREGATE_WATERMARK_WAIT_SECONDS: '2',
    });
    // The bar whose ticks the bridge had not committed is partial, not complete.
    expect(during.partial).toBeGreaterThanOrEqual(1);
    bridge = await startInProcess(bridgeEnv(nats, dbs.env));
    await untilSim(from + 10 * MIN + 25_000);
    const next = await aggregate(['--timeframe', '5m', '--now', new Date(from + 10 * MIN).toISOString()], {
      AGGREGATE_LOOKBACK_BARS: '0',
    });
    // Both bars are complete now; what stays partial is only what really was not covered
    // (the fresh start, the outage and the restart before Monday 00:00, retried every run).
    const partialNow = (next.partialBars ?? []).map((p) => p.startMs);
    expect(partialNow).not.toContain(from);
    expect(partialNow).not.toContain(from + 5 * MIN);
    expect(partialNow.every((s) => affected.includes(s))).toBe(true);
    expect(next.lateBars).toBeGreaterThanOrEqual(1);
    const t1 = await truth('5m', from);
    const t2 = await truth('5m', from + 5 * MIN);
    const bars = await waitFor(
      'the rebuilt bar stored',
      stored,
      (m) => same(m.get(key('5m', from)), t1) && same(m.get(key('5m', from + 5 * MIN)), t2),
    );
    expect(rank(bars.get(key('5m', from)))).toBe(2);
  }, 120_000);

  it('rebuilds every bar of a tick committed a day late, within one run of each aggregator', async () => {
    // The quote held back in the first test is committed a day later: one scheduled run per
    // timeframe puts it into its bars.
    const t5 = await truth('5m', complete5m);
    const row = held;
    await dbs.pg.query(
      `INSERT INTO market_ticks (time, tenant_id, symbol, bid, ask, mid, spread, timestamp_ms, exchange, source, ingested_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
        row.time,
        row.tenant_id,
        row.symbol,
        row.bid,
        row.ask,
        row.mid,
        row.spread,
        row.timestamp_ms,
        row.exchange,
        row.source,
        row.ingested_at,
      ],
    );
    const dayLater = MONDAY + 24 * 60 * MIN;
    const late = await aggregate(['--timeframe', 'all', '--now', new Date(dayLater).toISOString()], {
      AGGREGATE_WATERMARK_WAIT_SECONDS: '1',
    });
    // 5m to 4h: the bar of the tick lies before the run's window (1d and 1w still inside it).
    expect(late.lateBars).toBeGreaterThanOrEqual(5);
    const bars = await waitFor('the late tick in its bar', stored, (m) =>
      same(m.get(key('5m', complete5m)), t5),
    );
    for (const [tf, start] of barsAround(complete5m)) {
      expect([tf, same(bars.get(key(tf, start)), await truth(tf, start))]).toEqual([tf, true]);
    }
  }, 120_000);
});
