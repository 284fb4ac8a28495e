// The confirmed publish queue against a real nats-server of the test's own: everything
// offered ends up stored exactly once, through a NATS restart, and the bound holds while
// NATS is down.
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { pino } from 'pino';
import { startPrivateNats, type PrivateNats } from '../../../test/support/private-nats.js';
import { connectNats, type NatsHandle } from './connection.js';
import { ConfirmedPublishQueue, type QueuedMessage } from './confirmed-queue.js';
import { WireBatch } from './wire-batch.js';

const STREAM = 'CQ_TEST';
const silent = pino({ level: 'silent' });

async function storedIds(jsm: JetStreamManager, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let seq = 1; seq <= count; seq++) {
    const m = await jsm.streams.getMessage(STREAM, { seq });
    ids.push(m!.header.get('Nats-Msg-Id'));
  }
  return ids;
}

function message(i: number): QueuedMessage {
  return { subject: `cq.${i % 3}`, data: JSON.stringify({ i }), msgId: `m-${i}` };
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('ConfirmedPublishQueue with a real nats-server', () => {
  let nats: PrivateNats;
  let handle: NatsHandle;
  let jsm: JetStreamManager;
  let queue: ConfirmedPublishQueue<QueuedMessage> | undefined;

  beforeAll(async () => {
    nats = await startPrivateNats();
    handle = await connectNats(nats.url, 'cq-test', silent);
    jsm = await jetstreamManager(handle.nc);
  });

  afterEach(async () => {
    queue?.close();
    await jsm.streams.delete(STREAM).catch(() => undefined);
  });

  afterAll(async () => {
    await handle?.nc.close();
    await nats?.close();
  });

  async function createStream() {
    await jsm.streams.add({ name: STREAM, subjects: ['cq.>'], duplicate_window: 120_000_000_000 });
  }

  it('stores every offered message exactly once, in order, across a NATS restart', async () => {
    await createStream();
    let confirmed = 0;
    const failures: string[] = [];
    queue = new ConfirmedPublishQueue(handle.nc, {
      capacity: 10_000,
      window: 200,
      ackTimeoutMs: 1000,
      retry: { initialMs: 50, maxMs: 500 },
      onConfirmed: () => void confirmed++,
      onSendFailed: (reason) => void failures.push(reason),
    });
    const total = 3000;
    let offered = 0;
    const offerSome = (n: number) => {
      for (let k = 0; k < n; k++) expect(queue!.offer(message(offered++))).toBe(true);
    };
    offerSome(1000);
    await until('the first messages to be confirmed', () => confirmed > 0);
    const restart = nats.restart(1500);
    // Keep offering while the server is down and coming back.
    while (offered < total) {
      offerSome(100);
      await new Promise((r) => setTimeout(r, 20));
    }
    await restart;
    expect(await queue.flush(30_000)).toBe(true);
    expect(queue.depth).toBe(0);
    expect(failures.length).toBeGreaterThan(0); // the restart was felt…
    const info = await jsm.streams.info(STREAM);
    expect(info.state.messages).toBe(total); // …and nothing lost or doubled
    const ids = await storedIds(jsm, total);
    expect(new Set(ids).size).toBe(total);
    // The order survives as far as it can: each message after the last one stored before the outage.
    expect(ids.slice(0, 10)).toEqual(Array.from({ length: 10 }, (_, i) => `m-${i}`));
  }, 60_000);

  it('refuses offers beyond its capacity while nothing is confirmed, then delivers what it accepted', async () => {
    queue = new ConfirmedPublishQueue(handle.nc, {
      capacity: 100,
      window: 10,
      ackTimeoutMs: 500,
      retry: { initialMs: 50, maxMs: 200 },
    });
    // No stream yet: JetStream answers "no responders" and every publish is retried.
    const accepted = Array.from({ length: 150 }, (_, i) => queue!.offer(message(i)));
    expect(accepted.filter(Boolean)).toHaveLength(100);
    expect(accepted.slice(100).every((a) => !a)).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    expect(queue.depth).toBe(100);
    await createStream();
    expect(await queue.flush(20_000)).toBe(true);
    expect((await jsm.streams.info(STREAM)).state.messages).toBe(100);
    expect(new Set(await storedIds(jsm, 100))).toEqual(
      new Set(Array.from({ length: 100 }, (_, i) => `m-${i}`)),
    );
  }, 30_000);

  it('stores batched and individually published messages byte for byte, in offer order', async () => {
    // This client offers the batched path; without it every message would go through publish().
    expect(WireBatch.for(handle.nc)).toBeDefined();
    await createStream();
    const messages: QueuedMessage[] = [
      { subject: 'cq.a', data: '{"symbol":"EUR/USD","bid":1.0848}', msgId: 'plain-1' },
      { subject: 'cq.a', data: '{"note":"naïve €: multi-byte UTF-8"}', msgId: 'utf8-2' },
      { subject: 'cq.b', data: new Uint8Array([0, 1, 2, 255]), msgId: 'binary-3' }, // publish()
      { subject: 'cq.b', data: 'id with a space', msgId: 'spaced id 4' }, // publish()
      { subject: 'cq.a', data: '', msgId: 'empty-5' },
      { subject: 'cq.c', data: 'x'.repeat(5000), msgId: 'large-6' },
    ];
    queue = new ConfirmedPublishQueue(handle.nc, { capacity: 10, window: 10, ackTimeoutMs: 1000 });
    for (const m of messages) expect(queue.offer(m)).toBe(true);
    expect(await queue.flush(10_000)).toBe(true);
    for (const [i, m] of messages.entries()) {
      const stored = await jsm.streams.getMessage(STREAM, { seq: i + 1 });
      expect(stored!.subject).toBe(m.subject);
      expect(stored!.header.get('Nats-Msg-Id')).toBe(m.msgId);
      expect(Buffer.from(stored!.data)).toEqual(
        typeof m.data === 'string' ? Buffer.from(m.data, 'utf8') : Buffer.from(m.data),
      );
    }
  });

  it('returns what was never confirmed when closed', async () => {
    queue = new ConfirmedPublishQueue(handle.nc, { capacity: 10, window: 5, ackTimeoutMs: 500 });
    for (let i = 0; i < 3; i++) queue.offer(message(i));
    expect(await queue.flush(200)).toBe(false);
    expect(queue.close().map((m) => m.msgId)).toEqual(['m-0', 'm-1', 'm-2']);
    expect(queue.offer(message(4))).toBe(false);
  });
});
