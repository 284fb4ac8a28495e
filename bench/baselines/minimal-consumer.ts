// Second baseline of the bridge-ingest benchmark: what the NATS client alone can do on
// this machine. A minimal script drains MARKET_TICKS through a durable pull consumer the
// way the bridge does (fetch 1000, ack each one after the batch), with no parsing, no
// validation and no database. The bridge cannot be faster than this; the gap between the
// two is what the bridge's own work and its database costs.
// It prints one JSON line: {"seconds":…,"cpuSeconds":…,"acked":…}.
//
//   node dist/bench/bench/baselines/minimal-consumer.js --nats URL --count N
import { parseArgs } from 'node:util';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

const STREAM = 'MARKET_TICKS';
const DURABLE = 'minimal-consumer';
const BATCH = 1000;

const { values } = parseArgs({ options: { nats: { type: 'string' }, count: { type: 'string' } } });
const count = Number(values.count);
if (!values.nats || !Number.isInteger(count) || count <= 0) {
  console.error('usage: minimal-consumer --nats URL --count N');
  process.exit(2);
}

const nc = await connect({ servers: values.nats });
const jsm = await jetstreamManager(nc);
await jsm.consumers.delete(STREAM, DURABLE).catch(() => undefined);
await jsm.consumers.add(STREAM, {
  durable_name: DURABLE,
  ack_policy: AckPolicy.Explicit,
  deliver_policy: DeliverPolicy.All,
  max_ack_pending: 10 * BATCH,
});
const consumer = await jetstream(nc).consumers.get(STREAM, DURABLE);

const cpuBefore = process.cpuUsage();
const started = performance.now();
let acked = 0;
while (acked < count) {
  const batch = [];
  for await (const msg of await consumer.fetch({
    max_messages: Math.min(BATCH, count - acked),
    expires: 5_000,
  })) {
    batch.push(msg);
  }
  if (batch.length === 0) throw new Error(`stream ran dry after ${acked} of ${count} messages`);
  for (const msg of batch) msg.ack();
  acked += batch.length;
}
await nc.flush(); // every ack has reached the server
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuBefore);
await jsm.consumers.delete(STREAM, DURABLE);
await nc.close();
console.log(JSON.stringify({ seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, acked }));
