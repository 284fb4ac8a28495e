// The aggregate command against real servers: a fresh PostgreSQL database with the
// project's schema, a private NATS server (MARKET_BARS is a fixed name) and the shared
// Kafka broker (a topic of this file's own). A fixed set of ticks goes straight into
// market_ticks; every bar the command publishes is compared with bars computed here by a
// plain JavaScript reference, written independently of the product's code.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Admin, Consumer, stringDeserializers, type Message, type MessagesStream } from '@platformatic/kafka';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { pino, type Logger } from 'pino';
import { freePort, startPrivateNats, type PrivateNats } from '../../../test/support/private-nats.js';
import { reach, requireEnv, uniqueSuffix } from '../../../test/support/servers.js';
import { run } from './aggregate.js';

type Tf = '5m' | '15m' | '30m' | '1h' | '4h' | '1d' | '1w';
const ALL: Tf[] = ['5m', '15m', '30m', '1h', '4h', '1d', '1w'];

interface Tick {
  tenant: string;
  symbol: string;
  ms: number;
  bid: number;
  ask: number;
  exchange: number;
}
const mid = (t: Tick) => (t.bid + t.ask) / 2;

// ---- the reference implementation --------------------------------------------------------

/** Bar start from calendar fields: a different method from the product's modular arithmetic. */
function referenceStart(tf: Tf, ms: number): number {
  const d = new Date(ms);
  const [y, mo, day, h, mi] = [
    d.getUTCFullYear(),
    d.getUTCMonth(),
    d.getUTCDate(),
    d.getUTCHours(),
    d.getUTCMinutes(),
  ];
  switch (tf) {
    case '5m':
      return Date.UTC(y, mo, day, h, mi - (mi % 5));
    case '15m':
      return Date.UTC(y, mo, day, h, mi - (mi % 15));
    case '30m':
      return Date.UTC(y, mo, day, h, mi - (mi % 30));
    case '1h':
      return Date.UTC(y, mo, day, h);
    case '4h':
      return Date.UTC(y, mo, day, h - (h % 4));
    case '1d':
      return Date.UTC(y, mo, day);
    case '1w':
      // getUTCDay: Sunday 0 … Saturday 6; days since Monday = (day + 6) % 7.
      return Date.UTC(y, mo, day - ((d.getUTCDay() + 6) % 7));
  }
}

const DURATION: Record<Tf, number> = {
  '5m': 300_000,
  '15m': 900_000,
  '30m': 1_800_000,
  '1h': 3_600_000,
  '4h': 14_400_000,
  '1d': 86_400_000,
  '1w': 604_800_000,
};

const pips = (difference: number, pip: number) => Math.round((difference / pip) * 1e6) / 1e6;

interface ExpectedBar {
  symbol: string;
  timeframe: Tf;
  timestamp_ms: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  vwap: number;
  range_pips: number;
  body_pips: number;
  start_time: string;
  end_time: string;
  source: 'live_aggregated';
  event_type: 'ohlcv';
  /** The aggregator's TENANT_ID, carried in every bar. */
  tenant_id: string;
}

/** Bars of `tf` over [from, to) from the ticks of tenant `system` and the configured symbols. */
function referenceBars(ticks: Tick[], tf: Tf, from: number, to: number): ExpectedBar[] {
  const groups = new Map<string, Tick[]>();
  for (const t of ticks) {
    if (t.tenant !== 'system' || !(t.symbol in PIP) || t.ms < from || t.ms >= to) continue;
    const key = `${t.symbol}|${referenceStart(tf, t.ms)}`;
    groups.set(key, [...(groups.get(key) ?? []), t]);
  }
  const bars: ExpectedBar[] = [];
  for (const [key, group] of groups) {
    const [symbol, startText] = key.split('|') as [string, string];
    const start = Number(startText);
    // The documented tie order: time, then bid, ask, exchange.
    group.sort((a, b) => a.ms - b.ms || a.bid - b.bid || a.ask - b.ask || a.exchange - b.exchange);
    const mids = group.map(mid);
    const [open, close] = [mids[0]!, mids[mids.length - 1]!];
    const [high, low] = [Math.max(...mids), Math.min(...mids)];
    bars.push({
      symbol,
      timeframe: tf,
      timestamp_ms: start,
      open,
      high,
      low,
      close,
      volume: group.length,
      vwap: mids.reduce((a, b) => a + b, 0) / mids.length,
      range_pips: pips(high - low, PIP[symbol]!),
      body_pips: pips(Math.abs(close - open), PIP[symbol]!),
      start_time: new Date(start).toISOString(),
      end_time: new Date(start + DURATION[tf]).toISOString(),
      source: 'live_aggregated',
      event_type: 'ohlcv',
      tenant_id: 'system',
    });
  }
  return bars;
}

// ---- the fixed tick set ------------------------------------------------------------------

const SYMBOLS = 'EUR/USD,USD/JPY,XAU/USD';
// XAU/USD uses an override (PIP_SIZES) instead of its default 0.01.
const PIP: Record<string, number> = { 'EUR/USD': 0.0001, 'USD/JPY': 0.01, 'XAU/USD': 0.1 };
const utc = (iso: string) => Date.parse(iso);

function fixedTicks(): Tick[] {
  const ticks: Tick[] = [];
  const add = (symbol: string, iso: string, bid: number, ask: number, exchange: number, tenant = 'system') =>
    ticks.push({ tenant, symbol, ms: utc(iso), bid, ask, exchange });

  // Deterministic pseudo-random ticks from Sunday 21:00 to Tuesday 02:00 UTC, none in the
  // gap hour Monday 01:00-02:00 (windows without ticks must give no bar).
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const base: Record<string, [number, number, number]> = {
    // price, decimals, spread
    'EUR/USD': [1.085, 5, 0.00012],
    'USD/JPY': [151.2, 3, 0.012],
    'XAU/USD': [2030.5, 2, 0.35],
    'GBP/USD': [1.27, 5, 0.00015], // not in SYMBOLS: ignored
  };
  const from = utc('2024-01-21T21:00:00Z');
  const to = utc('2024-01-23T02:00:00Z');
  const gap = [utc('2024-01-22T01:00:00Z'), utc('2024-01-22T02:00:00Z')];
  for (const [symbol, [price0, decimals, spread]] of Object.entries(base)) {
    let price = price0;
    for (let i = 0; i < 500; i++) {
      const ms = from + Math.floor(random() * (to - from));
      if (ms >= gap[0]! && ms < gap[1]!) continue;
      price += (random() - 0.5) * price * 0.0004;
      const bid = Number(price.toFixed(decimals));
      ticks.push({
        tenant: 'system',
        symbol,
        ms,
        bid,
        ask: Number((bid + spread).toFixed(decimals)),
        exchange: 48,
      });
    }
  }

  // Boundary ticks exactly on bar starts (each belongs to the later bar), and the
  // millisecond before them.
  add('EUR/USD', '2024-01-21T23:59:59.999Z', 1.0849, 1.08502, 1);
  add('EUR/USD', '2024-01-22T00:00:00.000Z', 1.0852, 1.08532, 1);
  add('EUR/USD', '2024-01-22T00:00:00.000Z', 1.0851, 1.08522, 2); // same ms, lower bid: the open
  add('EUR/USD', '2024-01-22T00:05:00.000Z', 1.0856, 1.08572, 1);
  add('EUR/USD', '2024-01-22T00:15:00.000Z', 1.0844, 1.08452, 1);
  add('EUR/USD', '2024-01-22T00:30:00.000Z', 1.0847, 1.08482, 1);
  add('EUR/USD', '2024-01-22T02:00:00.000Z', 1.0853, 1.08542, 1); // first tick after the gap
  add('EUR/USD', '2024-01-22T04:00:00.000Z', 1.0858, 1.08592, 1);
  // Three ticks in the last millisecond of the 00:00 5-minute bar: same bid, ordered by
  // ask, then exchange; the close is the last of them in that order.
  add('EUR/USD', '2024-01-22T00:04:59.999Z', 1.085, 1.08514, 1);
  add('EUR/USD', '2024-01-22T00:04:59.999Z', 1.085, 1.08512, 3);
  add('EUR/USD', '2024-01-22T00:04:59.999Z', 1.085, 1.08514, 2);
  add('USD/JPY', '2024-01-21T23:59:59.999Z', 151.237, 151.249, 1);
  add('USD/JPY', '2024-01-22T00:00:00.000Z', 151.225, 151.237, 1);
  add('USD/JPY', '2024-01-22T04:00:00.000Z', 151.301, 151.313, 1);
  // Gold: identical bid and ask, only the exchange differs: both count in volume and vwap.
  add('XAU/USD', '2024-01-22T00:00:00.000Z', 2031.45, 2031.8, 7);
  add('XAU/USD', '2024-01-22T00:00:00.000Z', 2031.45, 2031.8, 4);
  add('XAU/USD', '2024-01-22T00:09:59.999Z', 2029.1, 2029.45, 9);
  add('XAU/USD', '2024-01-22T00:09:59.999Z', 2029.1, 2029.45, 5);
  // Another tenant's tick in the middle of everything: ignored.
  add('EUR/USD', '2024-01-22T00:02:00.000Z', 1.2, 1.2001, 1, 'other');
  return ticks;
}

// ---- servers -----------------------------------------------------------------------------

const suffix = uniqueSuffix();
const database = `it_agg_${suffix}`;
const topic = `it-aggregate-archive-${suffix}`;

describe('aggregate command (PostgreSQL, NATS JetStream, Kafka)', () => {
  const pgConfig = {
    host: requireEnv('PostgreSQL', 'TIMESCALEDB_HOST'),
    port: Number(requireEnv('PostgreSQL', 'TIMESCALEDB_PORT')),
    user: requireEnv('PostgreSQL', 'TIMESCALEDB_USER'),
    password: requireEnv('PostgreSQL', 'TIMESCALEDB_PASSWORD'),
  };
  const kafkaBrokers = requireEnv('Kafka', 'KAFKA_BROKERS');
  const ticks = fixedTicks();
  let admin: pg.Client;
  let db: pg.Client;
  let nats: PrivateNats;
  let nc: NatsConnection;
  let kafkaAdmin: Admin;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    admin = new pg.Client({ ...pgConfig, database: requireEnv('PostgreSQL', 'TIMESCALEDB_DATABASE') });
    await reach('PostgreSQL', `${pgConfig.host}:${pgConfig.port}`, () => admin.connect());
    await admin.query(`CREATE DATABASE ${database}`);
    db = new pg.Client({ ...pgConfig, database });
    await db.connect();
    const schemaDir = path.resolve('schemas/timescaledb');
    for (const file of readdirSync(schemaDir)
      .filter((f) => f.endsWith('.sql'))
      .sort()) {
      await db.query(readFileSync(path.join(schemaDir, file), 'utf8'));
    }
    await insertTicks(db, ticks);
    // A collector covered the whole time, and every tick is committed (tick_seq 0: no
    // watermark to wait for), so every bar is complete; coverage.it.test.ts covers the rest.
    await db.query(
      `INSERT INTO feed_coverage (tenant_id, segment_id, piece, symbols, from_ms, to_ms, tick_seq)
       VALUES ('system', 'whole-time', 0, $1, 0, 4102444800000, 0)`,
      [SYMBOLS.split(',')],
    );

    nats = await startPrivateNats();
    nc = await reach('NATS', nats.url, () => connect({ servers: nats.url, reconnect: false }));
    kafkaAdmin = new Admin({ clientId: 'aggregate-it-admin', bootstrapBrokers: kafkaBrokers.split(',') });
    await reach('Kafka', kafkaBrokers, () => kafkaAdmin.metadata({ topics: [] }));

    env = {
      NATS_URL: nats.url,
      TIMESCALEDB_HOST: pgConfig.host,
      TIMESCALEDB_PORT: String(pgConfig.port),
      TIMESCALEDB_DATABASE: database,
      TIMESCALEDB_USER: pgConfig.user,
      TIMESCALEDB_PASSWORD: pgConfig.password,
      SYMBOLS,
      PIP_SIZES: 'XAU/USD=0.1',
      KAFKA_BROKERS: kafkaBrokers,
      KAFKA_AGGREGATE_TOPIC: topic,
      // Long enough that every re-run in this file falls inside it, however slow the machine.
      NATS_DUPLICATE_WINDOW_SECONDS: '3600',
    };
  });

  afterAll(async () => {
    await nc?.close();
    await nats?.close();
    await kafkaAdmin?.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await kafkaAdmin?.close();
    await db?.end();
    await admin?.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => undefined);
    await admin?.end();
  });

  /** Runs the command in-process; returns the exit code and the log lines. */
  async function aggregate(args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
    const lines: Record<string, unknown>[] = [];
    const log: Logger = pino(
      { level: 'info' },
      { write: (line: string) => void lines.push(JSON.parse(line)) },
    );
    const code = await run(args, { ...env, ...extraEnv }, { log });
    const summary = lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('aggregated '));
    const failure = lines.find((l) => l.level === 50);
    return { code, lines, summary, failure: failure?.msg as string | undefined };
  }

  /** Every message in MARKET_BARS, in stream order. */
  async function streamBars(): Promise<{ subject: string; id: string; bar: Record<string, unknown> }[]> {
    const jsm = await jetstreamManager(nc);
    const total = (await jsm.streams.info('MARKET_BARS')).state.messages;
    const info = await jsm.consumers.add('MARKET_BARS', {
      ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.All,
    });
    const out: { subject: string; id: string; bar: Record<string, unknown> }[] = [];
    const consumer = await jetstream(nc).consumers.get('MARKET_BARS', info.name);
    while (out.length < total) {
      for await (const m of await consumer.fetch({ max_messages: total - out.length, expires: 5000 })) {
        out.push({ subject: m.subject, id: m.headers!.get('Nats-Msg-Id'), bar: m.json() });
      }
    }
    await jsm.consumers.delete('MARKET_BARS', info.name);
    return out;
  }

  /** Every record in the archive topic, after checking that the topic holds exactly that many. */
  async function archivedBars() {
    const consumer = new Consumer({
      clientId: 'aggregate-it-consumer',
      groupId: `aggregate-it-${uniqueSuffix()}`,
      bootstrapBrokers: kafkaBrokers.split(','),
      deserializers: stringDeserializers,
      maxWaitTime: 500,
    });
    try {
      const ends = (await consumer.listOffsets({ topics: [topic] })).get(topic)!;
      const total = Number(ends.reduce((a, b) => a + b, 0n));
      const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
      const records = await take(stream, total, 60_000);
      await stream.close();
      return records.map((m) => ({ key: m.key, id: m.headers.get('message-id'), bar: JSON.parse(m.value) }));
    } finally {
      await consumer.close();
    }
  }

  const withoutVersion = ({ ingested_at: _, ...rest }: Record<string, unknown>) => rest;
  const byKey = (a: { symbol: string; timeframe: string; timestamp_ms: number }) =>
    `${a.timeframe}|${a.symbol}|${a.timestamp_ms}`;

  /** Compares published bars with the reference: same set, every value equal (vwap to 1e-12 relative). */
  function expectBars(actual: Record<string, unknown>[], expected: ExpectedBar[]) {
    const sort = <T extends { symbol: string; timeframe: string; timestamp_ms: number }>(xs: T[]) =>
      [...xs].sort((a, b) => (byKey(a) < byKey(b) ? -1 : 1));
    const got = sort(actual.map(withoutVersion) as unknown as ExpectedBar[]);
    const want = sort(expected);
    expect(got.map(byKey)).toEqual(want.map(byKey));
    got.forEach((bar, i) => {
      // Sums in another order may differ in the last bits; everything else is exact.
      expect(Math.abs(bar.vwap - want[i]!.vwap)).toBeLessThanOrEqual(1e-12 * want[i]!.vwap);
      expect({ ...bar, vwap: 0 }).toEqual({ ...want[i]!, vwap: 0 });
    });
  }

  const started = Date.now();

  it('builds the scheduled window: the bar that closed last plus two look-back bars', async () => {
    const result = await aggregate(['--timeframe', '5m', '--now', '2024-01-22T00:12:00Z']);
    expect(result.failure).toBeUndefined();
    expect(result.code).toBe(0);
    // 23:55, 00:00 and 00:05; the bar in progress (00:10) is left out.
    const expected = referenceBars(ticks, '5m', utc('2024-01-21T23:55:00Z'), utc('2024-01-22T00:10:00Z'));
    expect(expected.length).toBeGreaterThanOrEqual(7);
    const published = await streamBars();
    expectBars(
      published.map((p) => p.bar),
      expected,
    );
    expect(result.summary!.msg).toBe(
      `aggregated 5m: ${expected.length} bars (${['EUR/USD', 'USD/JPY', 'XAU/USD']
        .map((s) => `${s} ${expected.filter((b) => b.symbol === s).length}`)
        .join(', ')}); published ${expected.length} (0 duplicates); 0 partial; 0 rebuilt for late ticks; ` +
        `archived ${expected.length} (0 already archived)`,
    );
    // The tie rules on the boundary bar 00:00-00:05 of EUR/USD, spelled out.
    const eur = published.find(
      (p) => p.subject === 'bars.EURUSD.5m' && p.bar.start_time === '2024-01-22T00:00:00.000Z',
    );
    expect(eur!.bar.open).toBe((1.0851 + 1.08522) / 2);
    expect(eur!.bar.close).toBe((1.085 + 1.08514) / 2);
  });

  it('builds every bar of all seven timeframes over an explicit range exactly as the reference', async () => {
    const args = [
      '--from',
      '2024-01-21T00:00:00Z',
      '--to',
      '2024-01-23T00:00:00Z',
      '--now',
      '2024-02-01T00:00:00Z',
    ];
    for (const tf of ALL) {
      const result = await aggregate(['--timeframe', tf, ...args]);
      expect(result.failure).toBeUndefined();
      expect(result.code).toBe(0);
    }
    // Bars up to 1d cover [Jan 21, Jan 23); the week bars are aligned to Mondays and
    // cover [Jan 15, Jan 29), so they also hold the ticks of Tuesday Jan 23.
    const expected = ALL.flatMap((tf) =>
      tf === '1w'
        ? referenceBars(ticks, tf, utc('2024-01-15T00:00:00Z'), utc('2024-01-29T00:00:00Z'))
        : referenceBars(ticks, tf, utc('2024-01-21T00:00:00Z'), utc('2024-01-23T00:00:00Z')),
    );
    const published = await streamBars();
    // The scheduled run's bars were identical: recognised as duplicates, stored once.
    expectBars(
      published.map((p) => p.bar),
      expected,
    );
    for (const p of published) {
      const bar = p.bar as unknown as ExpectedBar & { ingested_at: string };
      expect(p.subject).toBe(`bars.${bar.symbol.replace('/', '')}.${bar.timeframe}`);
      expect(p.id).toBe(
        `system|b:${bar.symbol.replace('/', '')}:${bar.timeframe}:${bar.timestamp_ms}:live_aggregated:${bar.open}:${bar.high}:${bar.low}:${bar.close}:${bar.volume}`,
      );
      expect(Date.parse(bar.ingested_at)).toBeGreaterThanOrEqual(started);
    }
    // Spot checks that the reference itself sees what the fixture intends.
    const keys = new Set(expected.map(byKey));
    expect(keys.has('1h|EUR/USD|' + utc('2024-01-22T01:00:00Z'))).toBe(false); // the gap hour
    expect(keys.has('1h|EUR/USD|' + utc('2024-01-22T02:00:00Z'))).toBe(true);
    expect(keys.has('1w|EUR/USD|' + utc('2024-01-15T00:00:00Z'))).toBe(true); // Sunday's ticks
    expect(keys.has('1w|EUR/USD|' + utc('2024-01-22T00:00:00Z'))).toBe(true);
    expect(expected.some((b) => b.symbol === 'GBP/USD')).toBe(false);

    // The archive holds every bar exactly once, keyed by symbol and timeframe.
    const archived = await archivedBars();
    expect(archived).toHaveLength(expected.length);
    expectBars(
      archived.map((a) => a.bar),
      expected,
    );
    const natsIds = new Map(published.map((p) => [byKey(p.bar as unknown as ExpectedBar), p.id]));
    for (const a of archived) {
      expect(a.key).toBe(`${a.bar.symbol.replace('/', '')}.${a.bar.timeframe}`);
      expect(a.id).toBe(natsIds.get(byKey(a.bar)));
    }
  });

  it('re-publishes identical bars as duplicates, not as new messages, and archives nothing twice', async () => {
    const before = (await streamBars()).length;
    const args = [
      '--from',
      '2024-01-21T00:00:00Z',
      '--to',
      '2024-01-23T00:00:00Z',
      '--now',
      '2024-02-01T00:00:00Z',
    ];
    const result = await aggregate(['--timeframe', 'all', ...args]);
    expect(result.code).toBe(0);
    const s = result.summary!;
    expect(s.bars).toBe(before);
    expect(s.published).toBe(before);
    expect(s.duplicates).toBe(before);
    expect([s.archived, s.alreadyArchived]).toEqual([0, before]);
    expect(await streamBars()).toHaveLength(before);
    expect(await archivedBars()).toHaveLength(before);
  });

  it('publishes a corrected version of a bar when a late tick arrives', async () => {
    const before = await streamBars();
    const late: Tick = {
      tenant: 'system',
      symbol: 'EUR/USD',
      ms: utc('2024-01-22T00:03:00Z'),
      bid: 1.0899,
      ask: 1.09,
      exchange: 1,
    };
    await insertTicks(db, [late]);
    const result = await aggregate(['--timeframe', '5m', '--now', '2024-01-22T00:12:00Z']);
    expect(result.code).toBe(0);
    const after = await streamBars();
    const added = after.slice(before.length);
    expect(added.map((a) => a.subject)).toEqual(['bars.EURUSD.5m']);
    const [corrected] = referenceBars(
      [...ticks, late],
      '5m',
      utc('2024-01-22T00:00:00Z'),
      utc('2024-01-22T00:05:00Z'),
    ).filter((b) => b.symbol === 'EUR/USD');
    expectBars([added[0]!.bar], [corrected!]);
    expect(corrected!.high).toBe(mid(late));
    expect(result.summary!.archived).toBe(1);
  });

  it('exits non-zero naming PostgreSQL when it is unreachable', async () => {
    const port = await freePort();
    const result = await aggregate(['--timeframe', '5m', '--now', '2024-01-22T00:12:00Z'], {
      TIMESCALEDB_PORT: String(port),
      KAFKA_BROKERS: '',
    });
    expect(result.code).toBe(1);
    expect(result.failure).toContain(
      `aggregation failed: PostgreSQL at ${pgConfig.host}:${port}/${database}:`,
    );
    expect(result.failure).toContain('ECONNREFUSED');
  });

  it('exits non-zero naming NATS when it is unreachable', async () => {
    const port = await freePort();
    const result = await aggregate(['--timeframe', '5m', '--now', '2024-01-22T00:12:00Z'], {
      NATS_URL: `nats://127.0.0.1:${port}`,
      KAFKA_BROKERS: '',
    });
    expect(result.code).toBe(1);
    expect(result.failure).toContain(`aggregation failed: NATS at nats://127.0.0.1:${port}:`);
  });
});

async function insertTicks(db: pg.Client, ticks: Tick[]): Promise<void> {
  await db.query(
    `INSERT INTO market_ticks (time, tenant_id, symbol, bid, ask, mid, spread, timestamp_ms, exchange, ingested_at)
     SELECT timestamptz 'epoch' + ms * interval '1 millisecond', tenant, symbol, bid, ask, mid, 0, ms, exchange, now()
     FROM unnest($1::text[], $2::text[], $3::bigint[], $4::float8[], $5::float8[], $6::float8[], $7::int[])
       AS u(tenant, symbol, ms, bid, ask, mid, exchange)`,
    [
      ticks.map((t) => t.tenant),
      ticks.map((t) => t.symbol),
      ticks.map((t) => t.ms),
      ticks.map((t) => t.bid),
      ticks.map((t) => t.ask),
      ticks.map(mid),
      ticks.map((t) => t.exchange),
    ],
  );
}

async function take(stream: MessagesStream<string, string, string, string>, count: number, ms: number) {
  const received: Message<string, string, string, string>[] = [];
  if (count === 0) return received;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`only ${received.length} of ${count} Kafka records within ${ms} ms`)),
      ms,
    );
  });
  const read = (async () => {
    for await (const message of stream) {
      received.push(message);
      if (received.length === count) break;
    }
    return received;
  })();
  try {
    return await Promise.race([read, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
