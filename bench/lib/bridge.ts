// Running bridge processes against a pre-filled stream and timing how fast they drain it:
// shared by the ingest, scaling and end-to-end benchmarks.
import type { TestDatabases } from '../../test/support/databases.js';
import { BRIDGE_CONSUMERS } from '../../workloads/src/bridge/consumers.js';
import type { StreamKind } from '../../workloads/src/bridge/route.js';
import type { BenchNats } from './fixtures.js';
import { cpuSnapshot, cpuSpentByCommand, sleep, startWorkload, waitFor, type Workload } from './processes.js';

export interface BridgeOptions {
  name: string;
  profileDir?: string;
  env?: Record<string, string>;
}

export async function startBridgeProcess(
  nats: BenchNats,
  dbs: TestDatabases,
  options: BridgeOptions,
): Promise<Workload> {
  return startWorkload(['bridge'], {
    name: options.name,
    profileDir: options.profileDir,
    env: { ...dbs.env, NATS_URL: nats.url, ...options.env },
  });
}

/** Messages the bridges have acked (their own counter; polling the consumer's info instead slows the server's deliveries). */
export async function ackedBy(bridges: readonly Workload[], kind: 'tick' | 'bar'): Promise<number> {
  const counts = await Promise.all(
    bridges.map((b) => b.metric('market_pipeline_bridge_messages_acked_total', { kind })),
  );
  return counts.reduce((a, b) => a + b, 0);
}

/** Every message of the consumer delivered and acked, per the server (checked once, at the end). */
export async function expectConsumerDone(nats: BenchNats, kind: StreamKind): Promise<void> {
  const { stream, durable } = BRIDGE_CONSUMERS[kind];
  await waitFor(
    `${durable} with nothing pending`,
    async () => {
      const info = await nats.jsm.consumers.info(stream, durable);
      return info.num_pending === 0 && info.num_ack_pending === 0;
    },
    10_000,
    100,
  );
}

/** How often the bridges' metrics are read during a timed drain (each read costs a bridge ~2 ms of CPU). */
const POLL_MS = 50;

export interface DrainRun {
  /** Messages per second, written and acked. */
  rate: number;
  seconds: number;
  /** CPU seconds of all the bridge processes over the timed span. */
  bridgeCpuSeconds: number;
  /** Highest RSS any bridge process reached (MB). */
  peakRssMb: number;
  /** Tick drains: CPU seconds of the servers over the timed span (every nats-server, every PostgreSQL process). */
  natsServerCpuSeconds?: number;
  postgresCpuSeconds?: number;
}

/**
 * Starts `replicas` bridge processes on a stream pre-filled with `total` ticks and times
 * the drain into market_ticks, acked. So that every replica starts at the same moment
 * (they boot one after another), the table is locked while they start: each pulls its
 * first batch and waits at its INSERT; the clock starts when the lock is released and
 * stops when the consumer has every message acked.
 */
export async function drainTicks(
  nats: BenchNats,
  dbs: TestDatabases,
  total: number,
  replicas: number,
  options: { profileDir?: string; timeoutMs: number; env?: Record<string, string> },
): Promise<DrainRun> {
  for (const kind of ['ticks', 'bars'] as const) {
    await nats.deleteConsumer(BRIDGE_CONSUMERS[kind].stream, BRIDGE_CONSUMERS[kind].durable);
  }
  const lock = await dbs.pg.connect();
  const bridges: Workload[] = [];
  let locked = false;
  try {
    await lock.query('BEGIN');
    await lock.query('LOCK TABLE market_ticks IN ACCESS EXCLUSIVE MODE');
    locked = true;
    for (let i = 0; i < replicas; i++) {
      bridges.push(
        await startBridgeProcess(nats, dbs, {
          name: `bridge-${i + 1}`,
          profileDir: options.profileDir,
          env: options.env,
        }),
      );
    }
    await Promise.all(bridges.map((b) => b.waitReady()));
    // Every replica has pulled its first batch (or all there is) and waits at the lock.
    await waitFor(
      'the bridges to pull their first batches',
      async () => {
        const received = await Promise.all(
          bridges.map((b) => b.metric('market_pipeline_bridge_messages_received_total', { kind: 'tick' })),
        );
        return received.reduce((a, b) => a + b, 0) >= Math.min(total, replicas * 1000);
      },
      30_000,
      POLL_MS,
    );
    const cpuBefore = bridges.reduce((sum, b) => sum + b.cpuSeconds(), 0);
    const machineBefore = cpuSnapshot();
    const started = performance.now();
    await lock.query('COMMIT');
    locked = false;
    await waitFor(
      `${total} ticks written and acked`,
      async () => (await ackedBy(bridges, 'tick')) >= total,
      options.timeoutMs,
      POLL_MS,
    );
    const seconds = (performance.now() - started) / 1000;
    const machine = cpuSpentByCommand(machineBefore, cpuSnapshot());
    await expectConsumerDone(nats, 'ticks');
    const bridgeCpuSeconds = bridges.reduce((sum, b) => sum + b.cpuSeconds(), 0) - cpuBefore;
    const peakRssMb = Math.max(...bridges.map((b) => b.memory().peakMb));
    return {
      rate: total / seconds,
      seconds,
      bridgeCpuSeconds,
      peakRssMb,
      natsServerCpuSeconds: machine['nats-server'] ?? 0,
      postgresCpuSeconds: machine.postgres ?? 0,
    };
  } finally {
    if (locked) await lock.query('ROLLBACK').catch(() => undefined);
    lock.release();
    await Promise.all(bridges.map((b) => b.stop()));
  }
}

/**
 * Starts one bridge on a stream pre-filled with `total` bars and measures the steady
 * rate into ClickHouse, acked: from the first acked batch to the last (ClickHouse has no
 * table lock to hold the start, and one replica needs none).
 */
export async function drainBars(
  nats: BenchNats,
  dbs: TestDatabases,
  total: number,
  options: { profileDir?: string; timeoutMs: number },
): Promise<DrainRun> {
  for (const kind of ['ticks', 'bars'] as const) {
    await nats.deleteConsumer(BRIDGE_CONSUMERS[kind].stream, BRIDGE_CONSUMERS[kind].durable);
  }
  const bridge = await startBridgeProcess(nats, dbs, { name: 'bridge', profileDir: options.profileDir });
  try {
    await bridge.waitReady();
    let first: { at: number; done: number; cpu: number } | undefined;
    const deadline = Date.now() + options.timeoutMs;
    for (;;) {
      const done = await ackedBy([bridge], 'bar');
      const at = performance.now();
      if (done > 0 && !first) first = { at, done, cpu: bridge.cpuSeconds() };
      if (done >= total && first) {
        const seconds = (at - first.at) / 1000;
        await expectConsumerDone(nats, 'bars');
        return {
          rate: (total - first.done) / seconds,
          seconds,
          bridgeCpuSeconds: bridge.cpuSeconds() - first.cpu,
          peakRssMb: bridge.memory().peakMb,
        };
      }
      if (bridge.child.exitCode !== null) throw new Error(`bridge exited:\n${bridge.tail()}`);
      if (Date.now() > deadline)
        throw new Error(`bars not drained within ${options.timeoutMs} ms (${done}/${total})`);
      await sleep(POLL_MS);
    }
  } finally {
    await bridge.stop();
  }
}
