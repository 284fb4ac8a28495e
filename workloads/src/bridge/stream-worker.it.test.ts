// The stream worker on a real JetStream consumer: never more batches in flight than
// allowed, every message written and acked exactly once, nothing pulled beyond the batches
// being written plus one set of lanes; a light load written as soon as the stream has
// nothing more; and a write that outlasts the ack wait kept from redelivery by progress
// replies.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AckPolicy, DeliverPolicy } from '@nats-io/jetstream';
import { Registry } from 'prom-client';
import { natsClient, quietLog, type NatsClient } from '../../../test/support/bridge-harness.js';
import { makeTick, tickOutgoing } from '../../../test/support/market-messages.js';
import { startPrivateNats, type PrivateNats } from '../../../test/support/private-nats.js';
import { STREAMS } from '../contracts/subjects.js';
import { Batch } from './batch.js';
import { DatabaseHealth } from './health.js';
import { createBridgeMetrics } from './metrics.js';
import { tickRow, type TickRow } from './rows.js';
import { StreamWorker, type Held } from './stream-worker.js';
import type { BatchWriter } from './writers.js';

const BATCH = 50;
const TICKS = 1000;
const CONCURRENCY = 3;

/** A database stand-in that takes a while per batch and records what it was given. */
class SlowWriter implements BatchWriter<TickRow> {
  readonly database = 'postgres' as const;
  readonly stored: number[] = [];
  inFlight = 0;
  maxInFlight = 0;
  /** Ack-pending on the consumer seen at the start of each write. */
  readonly pendingSeen: number[] = [];

  constructor(
    private readonly ackPending: () => Promise<number>,
    private readonly delayMs = 40,
  ) {}

  async write(rows: TickRow[]): Promise<number> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      this.pendingSeen.push(await this.ackPending());
      await new Promise((r) => setTimeout(r, this.delayMs));
      this.stored.push(...rows.map((r) => r.timestamp_ms));
      return rows.length;
    } finally {
      this.inFlight--;
    }
  }

  isDataError(): boolean {
    return false;
  }
}

describe('stream worker', () => {
  let nats: PrivateNats;
  let client: NatsClient;

  beforeAll(async () => {
    nats = await startPrivateNats();
    client = await natsClient(nats);
  }, 30_000);

  afterAll(async () => {
    await client?.close();
    await nats?.close();
  });

  /** A fresh durable on the tick stream and a worker on it (lane of `batch`, waiting up to `laneWaitMs`). */
  async function workerOn(
    durable: string,
    o: {
      ackWaitMs: number;
      batch: number;
      laneWaitMs: number;
      writeMs: number;
      keepAliveMs: number;
      concurrency: number;
    },
  ) {
    const stream = STREAMS.ticks.name;
    await client.jsm.consumers.add(stream, {
      durable_name: durable,
      filter_subject: 'ticks.>',
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.New,
      ack_wait: o.ackWaitMs * 1_000_000,
    });
    const consumerInfo = () => client.jsm.consumers.info(stream, durable);
    const writer = new SlowWriter(async () => (await consumerInfo()).num_ack_pending, o.writeMs);
    const metrics = createBridgeMetrics(new Registry());
    const worker = new StreamWorker<TickRow>({
      kind: 'ticks',
      consumerName: durable,
      getConsumer: () => client.js.consumers.get(stream, durable),
      js: client.js,
      lanes: { live: new Batch<Held<TickRow>>('ticks', o.batch, o.laneWaitMs) },
      toRow: (r) => {
        if (r.kind !== 'tick') throw new Error(`a ${r.kind} on the tick stream`);
        return tickRow(r.tick, 'system');
      },
      writer,
      health: new DatabaseHealth('postgres', metrics.databaseUp, quietLog),
      metrics,
      log: quietLog,
      keepAliveMs: o.keepAliveMs,
      maxConcurrentWrites: o.concurrency,
      maxPullWaitMs: 1_000,
    });
    return { worker, writer, metrics, consumerInfo };
  }

  const publishTicks = (n: number, t0: number) =>
    client.publish(Array.from({ length: n }, (_, i) => tickOutgoing(makeTick({ timestamp_ms: t0 + i }))));

  async function until(check: () => boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }

  it(`writes up to ${CONCURRENCY} batches at once and acks every message once`, async () => {
    const { worker, writer, consumerInfo } = await workerOn('worker-test', {
      ackWaitMs: 30_000,
      batch: BATCH,
      laneWaitMs: 60_000,
      writeMs: 40,
      keepAliveMs: 10_000,
      concurrency: CONCURRENCY,
    });
    // Published after the consumer exists (deliver new), before the worker pulls: a backlog.
    await publishTicks(TICKS, Date.now() - 3_600_000);
    const running = worker.run();
    await until(() => writer.stored.length >= TICKS, 30_000);
    worker.stop();
    await running;

    expect(writer.maxInFlight).toBe(CONCURRENCY);
    expect(new Set(writer.stored).size).toBe(TICKS);
    expect(writer.stored).toHaveLength(TICKS);
    // Held at most: the batches being written plus one full lane, as the server counts them.
    // The server's count may also still include the batch acked just before: nats-server
    // 2.11+ applies acks from a queue of the consumer's, so a pull sent after an ack can be
    // served before that ack is counted (2.9 applied them in order). Unbounded pulling would
    // still show here as many more batches.
    expect(Math.max(...writer.pendingSeen)).toBeLessThanOrEqual((CONCURRENCY + 2) * BATCH);
    const info = await consumerInfo();
    expect(info.num_ack_pending).toBe(0);
    expect(info.num_pending).toBe(0);
    expect(info.num_redelivered).toBe(0);
  });

  it('writes a light load as soon as the stream has nothing more, not after the batch timeout', async () => {
    const { worker, writer, consumerInfo } = await workerOn('worker-light', {
      ackWaitMs: 30_000,
      batch: 1000,
      laneWaitMs: 600_000, // a batch that waited for its timeout would never be written here
      writeMs: 5,
      keepAliveMs: 10_000,
      concurrency: 2,
    });
    const running = worker.run();
    try {
      for (let round = 0; round < 3; round++) {
        await publishTicks(7, Date.now() - 1_800_000 + round * 100);
        await until(() => writer.stored.length >= 7 * (round + 1), 20_000);
        expect(writer.stored).toHaveLength(7 * (round + 1));
      }
    } finally {
      worker.stop();
      await running;
    }
    expect((await consumerInfo()).num_ack_pending).toBe(0);
  });

  it('keeps a write longer than the ack wait from redelivery: no duplicate, no second write', async () => {
    const ackWaitMs = 1_000;
    const { worker, writer, metrics, consumerInfo } = await workerOn('worker-slow', {
      ackWaitMs,
      batch: 40,
      laneWaitMs: 60_000,
      writeMs: 3.5 * ackWaitMs, // each write outlasts the ack wait three times over
      keepAliveMs: ackWaitMs / 3, // as the bridge sets it
      concurrency: 2,
    });
    await publishTicks(100, Date.now() - 900_000);
    const running = worker.run();
    await until(() => writer.stored.length >= 100, 30_000);
    // Longer than an ack wait after the last write, in case a redelivery were still coming.
    await new Promise((r) => setTimeout(r, 2 * ackWaitMs));
    worker.stop();
    await running;

    expect(writer.stored).toHaveLength(100);
    expect(new Set(writer.stored).size).toBe(100);
    const info = await consumerInfo();
    expect(info.num_redelivered).toBe(0);
    expect(info.num_ack_pending).toBe(0);
    expect(await metrics.redelivered.get()).toMatchObject({ values: [] });
    expect((await metrics.progressReplies.get()).values[0]?.value).toBeGreaterThan(0);
  });
});
