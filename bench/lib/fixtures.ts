// The resources a benchmark needs, all private to it so that it never disturbs the tests
// other helpers run on the same servers: its own nats-server (the product's stream names
// are fixed), fresh PostgreSQL and ClickHouse databases with the schema applied. Every
// resource is registered for cleanup, which also runs when the run is interrupted.
import '../../test/support/load-test-env.js';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { migrateInto } from '../../test/support/bridge-harness.js';
import { createTestDatabases, sharedServerEnv, type TestDatabases } from '../../test/support/databases.js';
import { startPrivateNats, type PrivateNats } from '../../test/support/private-nats.js';
import { ConfirmedPublishQueue, type QueuedMessage } from '../../workloads/src/nats/confirmed-queue.js';
import { DEFAULT_STREAM_SETTINGS, ensureStreams } from '../../workloads/src/nats/streams.js';
import { runningProcesses } from './processes.js';

const open = new Set<Resources>();

/** Cleans up every benchmark's resources (an interrupted run). */
export async function closeAllResources(): Promise<void> {
  for (const resources of [...open]) await resources.closeAll();
}

/** Cleanup steps, run last-registered first. */
export class Resources {
  private readonly steps: { what: string; run: () => Promise<unknown> }[] = [];

  constructor() {
    open.add(this);
  }

  add(what: string, run: () => Promise<unknown>): void {
    this.steps.push({ what, run });
  }

  async closeAll(): Promise<void> {
    open.delete(this);
    for (const p of runningProcesses()) await p.stop(5000).catch(() => undefined);
    while (this.steps.length > 0) {
      const step = this.steps.pop()!;
      await step
        .run()
        .catch((error: Error) => console.error(`cleanup (${step.what}) failed: ${error.message}`));
    }
  }
}

/** Settings of the shared test servers (PostgreSQL, ClickHouse), from .test-env/env. */
export function serverEnv(): Record<string, string> {
  return sharedServerEnv();
}

/** Fresh PostgreSQL and ClickHouse databases with migrate applied; dropped at cleanup. */
export async function freshDatabases(resources: Resources): Promise<TestDatabases> {
  const dbs = await createTestDatabases();
  resources.add(`drop databases ${dbs.pgDatabase}`, () => dbs.drop());
  await migrateInto(dbs.env);
  return dbs;
}

export interface BenchNats {
  server: PrivateNats;
  url: string;
  nc: NatsConnection;
  jsm: JetStreamManager;
  /** Deletes a stream (its messages and its duplicate window) and creates the product's streams again. */
  resetStream(name: string): Promise<void>;
  /** Deletes a durable consumer if it exists, so the next one starts from the stream's beginning. */
  deleteConsumer(stream: string, durable: string): Promise<void>;
}

export async function privateNats(resources: Resources): Promise<BenchNats> {
  const server = await startPrivateNats();
  resources.add('stop the private nats-server', () => server.close());
  const nc = await connect({ servers: server.url });
  resources.add('close the NATS connection', () => nc.close());
  const jsm = await jetstreamManager(nc);
  await ensureStreams(jsm, DEFAULT_STREAM_SETTINGS);
  return {
    server,
    url: server.url,
    nc,
    jsm,
    async resetStream(name) {
      await jsm.streams.delete(name).catch(() => undefined);
      await ensureStreams(jsm, DEFAULT_STREAM_SETTINGS);
    },
    async deleteConsumer(stream, durable) {
      await jsm.consumers.delete(stream, durable).catch(() => undefined);
    },
  };
}

/**
 * Publishes every message to JetStream and resolves once all are confirmed, through the
 * product's own confirmed queue (the fastest confirmed path here; not what is measured).
 * Fails when no confirmation arrives for 30 s.
 */
export async function publishAll(nc: NatsConnection, messages: readonly QueuedMessage[]): Promise<void> {
  if (messages.length === 0) return;
  let confirmed = 0;
  let lastFailure = '';
  const queue = new ConfirmedPublishQueue<QueuedMessage>(nc, {
    capacity: messages.length,
    window: 1000,
    ackTimeoutMs: 10_000,
    onConfirmed: () => void confirmed++,
    onSendFailed: (reason) => void (lastFailure = reason),
  });
  for (const m of messages) queue.offer(m);
  let seen = -1;
  while (confirmed < messages.length) {
    if (confirmed === seen) {
      queue.close();
      throw new Error(`pre-filling the stream stalled at ${confirmed}/${messages.length}: ${lastFailure}`);
    }
    seen = confirmed;
    await queue.flush(30_000);
  }
  queue.close();
}
