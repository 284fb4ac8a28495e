// The oldest-unacked age against a real nats-server: it follows the ack floor, skips a
// deleted message after the floor, and is 0 once everything is acknowledged.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AckPolicy, jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { startPrivateNats, type PrivateNats } from '../../../test/support/private-nats.js';
import { oldestUnackedAgeSeconds } from './oldest-unacked.js';

const STREAM = 'OLDEST_UNACKED_TEST';
const DURABLE = 'reader';

describe('oldestUnackedAgeSeconds', () => {
  let nats: PrivateNats;
  let nc: NatsConnection;
  let jsm: JetStreamManager;

  beforeAll(async () => {
    nats = await startPrivateNats();
    nc = await connect({ servers: nats.url });
    jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: STREAM, subjects: ['oldest.>'] });
    await jsm.consumers.add(STREAM, { durable_name: DURABLE, ack_policy: AckPolicy.Explicit });
  });

  afterAll(async () => {
    await nc?.close();
    await nats?.stop();
  });

  const info = () => jsm.consumers.info(STREAM, DURABLE);
  const storedAt = async (seq: number) => (await jsm.streams.getMessage(STREAM, { seq }))!.time.getTime();

  it('is the age of the first message after the ack floor, and 0 when all are acked', async () => {
    const js = jetstream(nc);
    for (let i = 1; i <= 4; i++) await js.publish(`oldest.${i}`, `m${i}`);
    const now = (await storedAt(4)) + 60_000;

    // Nothing acknowledged: the first message is the oldest.
    expect(await oldestUnackedAgeSeconds(jsm, STREAM, await info(), now)).toBeCloseTo(
      (now - (await storedAt(1))) / 1000,
      3,
    );

    // Ack the first; delete the second, which was never delivered: the third is the oldest.
    const consumer = await js.consumers.get(STREAM, DURABLE);
    const first = await consumer.next();
    first!.ack();
    await first!.ackAck();
    await jsm.streams.deleteMessage(STREAM, 2);
    const afterFloor = await info();
    expect(afterFloor.ack_floor.stream_seq).toBe(1);
    expect(await oldestUnackedAgeSeconds(jsm, STREAM, afterFloor, now)).toBeCloseTo(
      (now - (await storedAt(3))) / 1000,
      3,
    );

    // Everything acknowledged: nothing waits.
    const rest = await consumer.fetch({ max_messages: 2, expires: 2000 });
    for await (const m of rest) await m.ackAck();
    const done = await info();
    expect(done.num_pending + done.num_ack_pending).toBe(0);
    expect(await oldestUnackedAgeSeconds(jsm, STREAM, done, now)).toBe(0);
  });
});
