// Proves the test NATS server is real and has JetStream: a stream with a duplicate
// window, publishes acknowledged (and a re-published message id recognised), then a
// durable pull consumer that reads and acknowledges them.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { reach, requireEnv, uniqueSuffix } from '../support/servers.js';

describe('NATS JetStream test server', () => {
  const url = requireEnv('NATS', 'NATS_URL');
  const suffix = uniqueSuffix();
  const stream = `IT_${suffix}`.toUpperCase();
  const subject = `it.${suffix}`;
  let nc: NatsConnection;
  let jsm: JetStreamManager;

  beforeAll(async () => {
    nc = await reach('NATS', url, () => connect({ servers: url, timeout: 3000, reconnect: false }));
    jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: stream, subjects: [`${subject}.>`], duplicate_window: 60_000_000_000 });
  });

  afterAll(async () => {
    await jsm?.streams.delete(stream).catch(() => undefined);
    await nc?.close();
  });

  it('acknowledges publishes, drops a repeated message id, and delivers to a durable consumer', async () => {
    const js = jetstream(nc);
    const payloads = ['a', 'b', 'c'].map((letter, i) => ({ id: `${suffix}-${i}`, letter }));
    for (const p of payloads) {
      const ack = await js.publish(`${subject}.${p.letter}`, JSON.stringify(p), { msgID: p.id });
      expect(ack.stream).toBe(stream);
      expect(ack.duplicate).toBe(false);
    }
    const again = await js.publish(`${subject}.a`, JSON.stringify(payloads[0]), { msgID: payloads[0]!.id });
    expect(again.duplicate).toBe(true);

    await jsm.consumers.add(stream, { durable_name: 'it', ack_policy: AckPolicy.Explicit });
    const consumer = await js.consumers.get(stream, 'it');
    const received: unknown[] = [];
    for (let i = 0; i < payloads.length; i++) {
      const msg = await consumer.next({ expires: 5000 });
      expect(msg).not.toBeNull();
      received.push(msg!.json());
      await msg!.ackAck();
    }
    expect(received).toEqual(payloads);

    const info = await jsm.consumers.info(stream, 'it');
    expect(info.num_pending).toBe(0);
    expect(info.num_ack_pending).toBe(0);
  });
});
