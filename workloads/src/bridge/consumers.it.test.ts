// The bridge's durable consumers on a real nats-server: created without a filter (the
// whole stream), and brought up to date without touching an equivalent old filter.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AckPolicy } from '@nats-io/jetstream';
import { natsClient, type NatsClient } from '../../../test/support/bridge-harness.js';
import { startPrivateNats, type PrivateNats } from '../../../test/support/private-nats.js';
import { STREAMS } from '../contracts/subjects.js';
import { NS_PER_MS } from '../nats/durable-consumer.js';
import { ensureConsumer } from './consumers.js';

const settings = { ackWaitMs: 30_000, heldPerReplica: 3000 };

describe('bridge consumers', () => {
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

  it('creates a consumer of the whole stream, with the settings asked for', async () => {
    await ensureConsumer(client.jsm, 'ticks', settings);
    const info = await client.jsm.consumers.info(STREAMS.ticks.name, 'bridge-ticks');
    expect(info.config.filter_subject ?? '').toBe('');
    expect(info.config.ack_wait).toBe(30_000 * NS_PER_MS);
    expect(info.config.max_ack_pending).toBe(30_000);
    expect(info.config.ack_policy).toBe(AckPolicy.Explicit);
  });

  it('updates an older consumer whose filter is the whole stream, keeping that filter', async () => {
    await client.jsm.consumers.add(STREAMS.bars.name, {
      durable_name: 'bridge-bars',
      filter_subject: 'bars.>',
      ack_policy: AckPolicy.Explicit,
      ack_wait: 10_000 * NS_PER_MS,
      max_ack_pending: 100,
    });
    await ensureConsumer(client.jsm, 'bars', settings);
    const info = await client.jsm.consumers.info(STREAMS.bars.name, 'bridge-bars');
    expect(info.config.filter_subject).toBe('bars.>');
    expect(info.config.ack_wait).toBe(30_000 * NS_PER_MS);
    expect(info.config.max_ack_pending).toBe(30_000);
  });
});
