// Baseline of the collector benchmark: a minimal script that publishes given tick payloads
// to JetStream, each with its Nats-Msg-Id, and waits until every one is confirmed. Two
// ways, both in a few lines:
//   raw: core publish with a reply subject per message, one subscription for all the acks,
//        a window of 1000 in flight (what a JetStream publish is on the wire);
//   js:  the client's js.publish(), a window of 1000 promises in flight.
// It reads everything first, then times only the publishing, and prints one JSON line:
// {"seconds":…,"cpuSeconds":…,"confirmed":…,"failed":…}.
//
//   node dist/bench/bench/baselines/minimal-publisher.js --nats URL --file payloads.jsonl [--mode raw|js]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { jetstream } from '@nats-io/jetstream';
import { connect, createInbox, headers, type NatsConnection } from '@nats-io/transport-node';

interface Payload {
  subject: string;
  msgId: string;
  data: string;
}

const WINDOW = 1000;

function publishRaw(nc: NatsConnection, messages: Payload[]): Promise<number> {
  const inbox = createInbox();
  let sent = 0;
  let acked = 0;
  let failed = 0;
  return new Promise((resolve) => {
    const pump = () => {
      while (sent < messages.length && sent - acked < WINDOW) {
        const m = messages[sent]!;
        const h = headers();
        h.set('Nats-Msg-Id', m.msgId);
        nc.publish(m.subject, m.data, { reply: `${inbox}.${sent}`, headers: h });
        sent++;
      }
    };
    nc.subscribe(`${inbox}.*`, {
      callback: (_error, msg) => {
        const ack = msg.string();
        if (!ack.startsWith('{') || ack.includes('"error"')) failed++;
        if (++acked === messages.length) resolve(failed);
        else pump();
      },
    });
    pump();
  });
}

async function publishJs(nc: NatsConnection, messages: Payload[]): Promise<number> {
  const js = jetstream(nc);
  const inFlight = new Set<Promise<void>>();
  let failed = 0;
  for (const m of messages) {
    const p: Promise<void> = js
      .publish(m.subject, m.data, { msgID: m.msgId })
      .then(
        () => undefined,
        () => void failed++,
      )
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= WINDOW) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  return failed;
}

const { values } = parseArgs({
  options: {
    nats: { type: 'string' },
    file: { type: 'string' },
    mode: { type: 'string', default: 'raw' },
  },
});
if (!values.nats || !values.file || !['raw', 'js'].includes(values.mode!)) {
  console.error('usage: minimal-publisher --nats URL --file payloads.jsonl [--mode raw|js]');
  process.exit(2);
}
const messages = readFileSync(values.file, 'utf8')
  .split('\n')
  .filter((line) => line !== '')
  .map((line) => JSON.parse(line) as Payload);
const nc = await connect({ servers: values.nats });
const cpuBefore = process.cpuUsage();
const started = performance.now();
const failed = values.mode === 'raw' ? await publishRaw(nc, messages) : await publishJs(nc, messages);
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuBefore);
await nc.close();
console.log(
  JSON.stringify({
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    confirmed: messages.length - failed,
    failed,
  }),
);
