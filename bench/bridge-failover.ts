// 7. Bridge failover: the live path at 2,000 ticks/s (simulator → collector → NATS → two
// bridge replicas on the shared durable → PostgreSQL) while one of the two replicas, in
// turn, is killed with SIGKILL every ~20 s (jittered ±25 %) and started again at once (as a
// kubelet restarts a crashed container). A killed replica's unacked messages come back
// after the consumer's ack wait (BRIDGE_ACK_WAIT, the default); meanwhile the live replica's
// own held messages are kept from redelivery by progress replies. Measured: the delay of
// every tick of the window (quote time → the moment its row was inserted, which the bench's
// own copy of market_ticks records in an extra column defaulting to clock_timestamp(): a
// poller that follows the newest rows, as the latency benchmark's does, never sees a tick
// that arrives seconds late, which is exactly the one that matters here), p99 and max; ticks
// lost (in the stream but not in the table once everything is acked) and stored twice
// (rows beyond the distinct quote keys; the unique key makes it 0 unless it is broken);
// redeliveries and duplicate writes the bridges counted. Baseline, alternating in the same
// run: the same two replicas with no kill.
// Then the idle cost: with the feed stopped, what the two replicas send the server per
// second (acks, progress replies, pull requests), counted by a wiretap subscription; and
// the same under load, during the fault rounds.
import type { Subscription } from '@nats-io/transport-node';
import { BRIDGE_CONSUMERS } from '../workloads/src/bridge/consumers.js';
import { bySize, type Benchmark, type BenchOptions } from './lib/benchmark.js';
import { startBridgeProcess } from './lib/bridge.js';
import { freshDatabases, privateNats, Resources, type BenchNats } from './lib/fixtures.js';
import { startCollectorProcess } from './lib/pipeline.js';
import { sleep, waitFor, type Workload } from './lib/processes.js';
import type { BenchmarkResult, ResultRow } from './lib/report.js';
import { alternate, distribution, median, type Distribution } from './lib/stats.js';
import { SYMBOLS } from './lib/ticks.js';
import { startSimulatorAt } from './e2e-latency.js';
import type { TestDatabases } from '../test/support/databases.js';

const RATE = 2_000;
const REPLICAS = 2;
const TARGET_P99_MS = 5_000;
/** The bench's extra column: when the row was inserted (the writers name their columns, so it takes its default). */
const WRITTEN_AT = 'bench_written_at';

/** Messages the bridges send the server, per second, as a wiretap subscription sees them. */
interface Traffic {
  acksPerSecond: number;
  progressPerSecond: number;
  pullsPerSecond: number;
}

class Wiretap {
  private acks = 0;
  private progress = 0;
  private pulls = 0;
  private readonly subs: Subscription[];
  private readonly started = performance.now();

  constructor(nats: BenchNats) {
    const { stream, durable } = BRIDGE_CONSUMERS.ticks;
    this.subs = [
      nats.nc.subscribe(`$JS.ACK.${stream}.${durable}.>`, {
        callback: (_e, m) => {
          // +ACK or an empty payload acknowledges; +WPI is a progress reply.
          if (m.data.length === 4 && m.data[1] === 0x57) this.progress++;
          else this.acks++;
        },
      }),
      nats.nc.subscribe(`$JS.API.CONSUMER.MSG.NEXT.${stream}.${durable}`, {
        callback: () => void this.pulls++,
      }),
    ];
  }

  async stop(): Promise<Traffic> {
    await this.subs[0]!.drain();
    await this.subs[1]!.drain();
    const seconds = (performance.now() - this.started) / 1000;
    return {
      acksPerSecond: this.acks / seconds,
      progressPerSecond: this.progress / seconds,
      pullsPerSecond: this.pulls / seconds,
    };
  }
}

interface FaultRun {
  latency: Distribution;
  /** Ticks in the stream (all delivered and acked) that are not in the table. */
  lost: number;
  /** Rows beyond the distinct quote keys. */
  doubled: number;
  kills: number;
  /** Messages the bridges received again, and rows they wrote again (skipped as duplicates). */
  redelivered: number;
  duplicateWrites: number;
  /** Ticks in the stream at the end. */
  streamed: number;
  traffic: Traffic;
}

async function counters(bridges: readonly Workload[]): Promise<{ redelivered: number; duplicates: number }> {
  let redelivered = 0;
  let duplicates = 0;
  for (const b of bridges) {
    redelivered += await b.metric('market_pipeline_bridge_messages_redelivered_total', { kind: 'tick' });
    duplicates += await b.metric('market_pipeline_bridge_duplicate_ticks_total');
  }
  return { redelivered, duplicates };
}

async function doubledRows(dbs: TestDatabases): Promise<number> {
  const r = await dbs.pg.query<{ n: number }>(
    `SELECT (count(*) - (SELECT count(*) FROM (SELECT DISTINCT tenant_id, symbol, time, bid, ask, exchange
                                             FROM market_ticks) k))::int AS n FROM market_ticks`,
  );
  return r.rows[0]!.n;
}

async function oneRun(
  o: BenchOptions,
  nats: BenchNats,
  dbs: TestDatabases,
  wsUrl: string,
  seconds: number,
  killEveryMs: number | undefined,
): Promise<FaultRun> {
  await nats.resetStream('MARKET_TICKS');
  await nats.deleteConsumer(BRIDGE_CONSUMERS.ticks.stream, BRIDGE_CONSUMERS.ticks.durable);
  await dbs.pg.query('TRUNCATE market_ticks');
  const bridges: Workload[] = [];
  const start = (i: number) =>
    startBridgeProcess(nats, dbs, { name: `bridge-${i + 1}`, profileDir: o.profileDir });
  for (let i = 0; i < REPLICAS; i++) bridges.push(await start(i));
  let collector: Workload | undefined;
  let kills = 0;
  const lostCounters = { redelivered: 0, duplicates: 0 };
  try {
    await Promise.all(bridges.map((b) => b.waitReady()));
    collector = await startCollectorProcess({ natsUrl: nats.url, wsUrl, symbols: SYMBOLS });
    await collector.waitReady();
    const warmupMs = 3_000;
    const windowStart = Date.now() + warmupMs;
    const windowEnd = windowStart + seconds * 1000;
    await sleep(warmupMs);
    const tap = new Wiretap(nats);
    if (killEveryMs !== undefined) {
      for (;;) {
        const next = Date.now() + killEveryMs * (0.75 + Math.random() * 0.5);
        if (next >= windowEnd - 2_000) break;
        await sleep(next - Date.now());
        const victim = kills % REPLICAS;
        // What it counted is lost with it: read its counters just before.
        const c = await counters([bridges[victim]!]);
        lostCounters.redelivered += c.redelivered;
        lostCounters.duplicates += c.duplicates;
        bridges[victim]!.child.kill('SIGKILL');
        await bridges[victim]!.exited;
        kills++;
        o.log(`killed ${bridges[victim]!.name} (kill ${kills}); restarting it`);
        bridges[victim] = await start(victim);
        await bridges[victim].waitReady();
      }
    }
    await sleep(Math.max(0, windowEnd - Date.now()));
    const traffic = await tap.stop();
    await sleep(1_000); // the window's last quotes through the collector
    await collector.stop();
    collector = undefined;
    await waitFor(
      'every tick written and acked',
      async () => {
        const info = await nats.jsm.consumers.info(
          BRIDGE_CONSUMERS.ticks.stream,
          BRIDGE_CONSUMERS.ticks.durable,
        );
        return info.num_pending === 0 && info.num_ack_pending === 0;
      },
      60_000,
      200,
    );
    const delays = await dbs.pg.query<{ ms: number }>(
      `SELECT (extract(epoch FROM (${WRITTEN_AT} - time)) * 1000)::float8 AS ms
         FROM market_ticks WHERE time >= $1 AND time < $2`,
      [new Date(windowStart), new Date(windowEnd)],
    );
    const streamed = (await nats.jsm.streams.info(BRIDGE_CONSUMERS.ticks.stream)).state.messages;
    const stored = Number(
      (await dbs.pg.query<{ n: string }>('SELECT count(*) AS n FROM market_ticks')).rows[0]!.n,
    );
    const end = await counters(bridges);
    return {
      latency: distribution(delays.rows.map((r) => r.ms)),
      lost: streamed - stored,
      doubled: await doubledRows(dbs),
      kills,
      redelivered: lostCounters.redelivered + end.redelivered,
      duplicateWrites: lostCounters.duplicates + end.duplicates,
      streamed,
      traffic,
    };
  } finally {
    await collector?.stop();
    await Promise.all(bridges.map((b) => b.stop()));
  }
}

/** Two idle replicas (nothing published): what they send the server per second. */
async function idleCost(nats: BenchNats, dbs: TestDatabases, seconds: number): Promise<Traffic> {
  // An empty stream: a new consumer would otherwise start by draining the rounds' ticks.
  await nats.resetStream('MARKET_TICKS');
  await nats.deleteConsumer(BRIDGE_CONSUMERS.ticks.stream, BRIDGE_CONSUMERS.ticks.durable);
  const bridges: Workload[] = [];
  try {
    for (let i = 0; i < REPLICAS; i++)
      bridges.push(await startBridgeProcess(nats, dbs, { name: `idle-${i + 1}` }));
    await Promise.all(bridges.map((b) => b.waitReady()));
    await sleep(2_000); // the first pulls
    const tap = new Wiretap(nats);
    await sleep(seconds * 1000);
    return await tap.stop();
  } finally {
    await Promise.all(bridges.map((b) => b.stop()));
  }
}

async function run(o: BenchOptions): Promise<BenchmarkResult> {
  const seconds = bySize(o.size, { tiny: 12, quick: 45, full: 60 });
  const killEveryMs = bySize(o.size, { tiny: 5_000, quick: 20_000, full: 20_000 });
  const idleSeconds = bySize(o.size, { tiny: 3, quick: 10, full: 20 });
  const rounds = Math.min(o.rounds, 2);
  const resources = new Resources();
  try {
    const nats = await privateNats(resources);
    const dbs = await freshDatabases(resources);
    await dbs.pg.query(
      `ALTER TABLE market_ticks ADD COLUMN IF NOT EXISTS ${WRITTEN_AT} timestamptz DEFAULT clock_timestamp()`,
    );
    const simulator = await startSimulatorAt(RATE);
    resources.add('stop the simulator', () => simulator.stop());
    const sides = await alternate(
      rounds,
      () => oneRun(o, nats, dbs, simulator.wsUrl, seconds, killEveryMs),
      () => oneRun(o, nats, dbs, simulator.wsUrl, seconds, undefined),
      o.log,
    );
    const idle = await idleCost(nats, dbs, idleSeconds);
    o.log(`idle: ${JSON.stringify(idle)}`);

    const p = sides.product;
    const b = sides.baseline;
    const sum = (runs: FaultRun[], f: (r: FaultRun) => number) => runs.reduce((s, r) => s + f(r), 0);
    const p99 = median(p.map((r) => r.latency.p99));
    const rows: ResultRow[] = [
      {
        measure: `p99 tick delay at ${RATE.toLocaleString('en-US')}/s, 1 of ${REPLICAS} replicas kill -9'd every ~${killEveryMs / 1000} s`,
        unit: 'ms',
        product: p99,
        baseline: median(b.map((r) => r.latency.p99)),
        baselineName: 'no kills',
        ratio: p99 / median(b.map((r) => r.latency.p99)),
        target: `≤ ${TARGET_P99_MS / 1000} s`,
        met: p99 <= TARGET_P99_MS,
        rounds: { product: p.map((r) => r.latency.p99), baseline: b.map((r) => r.latency.p99) },
      },
      {
        measure: 'max tick delay (all rounds)',
        unit: 'ms',
        product: Math.max(...p.map((r) => r.latency.max)),
        baseline: Math.max(...b.map((r) => r.latency.max)),
        baselineName: 'no kills',
        rounds: { product: p.map((r) => r.latency.max), baseline: b.map((r) => r.latency.max) },
      },
      {
        measure: 'ticks lost + stored twice (all rounds)',
        unit: 'ticks',
        product: sum(p, (r) => r.lost + r.doubled),
        baseline: sum(b, (r) => r.lost + r.doubled),
        baselineName: 'no kills',
        target: '0',
        met: sum(p, (r) => r.lost + r.doubled) === 0,
      },
      {
        measure: 'idle: acks + progress replies per second (2 replicas)',
        unit: '/s',
        product: idle.acksPerSecond + idle.progressPerSecond,
        baseline: idle.pullsPerSecond,
        baselineName: 'pull requests/s',
      },
    ];
    return {
      id: 'bridge-failover',
      title: `Bridge failover: ${REPLICAS} replicas at ${RATE.toLocaleString('en-US')} ticks/s, one kill -9'd every ~${killEveryMs / 1000} s`,
      rows,
      notes: [
        `${seconds} s window after 3 s of warm-up, ${rounds} rounds each of kills and no kills (alternating); ${sum(p, (r) => r.kills)} kills in all; a killed replica is started again at once; bridges with their defaults (BRIDGE_ACK_WAIT 5 s, progress replies every third of it for messages held longer than half that)`,
        `tick delay = the row's insert time (clock_timestamp(), an extra column of the bench's table) − quote time, for every tick of the window; lost = ticks in MARKET_TICKS − rows once the consumer has nothing pending or unacked; stored twice = rows − distinct quote keys`,
        `kill rounds: ${p.map((r) => `${r.kills} kills, ${r.streamed} ticks, ${r.lost} lost, ${r.doubled} doubled, ${r.redelivered} redelivered, ${r.duplicateWrites} written again (skipped by the unique key)`).join('; ')}`,
        `no-kill rounds: ${b.map((r) => `${r.streamed} ticks, ${r.lost} lost, ${r.doubled} doubled, ${r.redelivered} redelivered`).join('; ')}`,
        `to the server per second under load (kill rounds, median): acks ${median(p.map((r) => r.traffic.acksPerSecond)).toFixed(0)}, progress replies ${median(p.map((r) => r.traffic.progressPerSecond)).toFixed(1)}, pull requests ${median(p.map((r) => r.traffic.pullsPerSecond)).toFixed(1)}; idle (${idleSeconds} s, no ticks): acks ${idle.acksPerSecond.toFixed(1)}, progress replies ${idle.progressPerSecond.toFixed(1)}, pull requests ${idle.pullsPerSecond.toFixed(1)}`,
      ],
      details: { rate: RATE, seconds, killEveryMs, product: p, baseline: b, idle },
    };
  } finally {
    await resources.closeAll();
  }
}

export const bridgeFailover: Benchmark = { id: 'bridge-failover', title: 'Bridge failover', run };
