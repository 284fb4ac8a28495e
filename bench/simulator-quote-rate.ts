// How many quotes per second the simulator sustains on one core (the load generator of the
// collector, latency and memory benchmarks). Start the simulator first, e.g.
//   METRICS_PORT=9464 node bin/market-pipeline.js simulate --rate 5000
// then, in another process:
//   node dist/bench/bench/simulator-quote-rate.js [--url ws://127.0.0.1:8765/forex]
//        [--metrics http://127.0.0.1:9464/metrics] [--seconds 10]
// It subscribes to C.*, counts the events it receives, and reads the simulator's own CPU
// time (process_cpu_seconds_total) and stream lag from /metrics. Quotes per CPU-second of
// the simulator is its single-core capacity, whatever else the machine is doing.
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { sumMetric } from './lib/processes.js';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'ws://127.0.0.1:8765/forex' },
    metrics: { type: 'string', default: 'http://127.0.0.1:9464/metrics' },
    seconds: { type: 'string', default: '10' },
  },
});
const seconds = Number(values.seconds);
const key = process.env.POLYGON_API_KEY ?? 'simulator-demo-key';

async function metric(name: string): Promise<number> {
  return sumMetric(await (await fetch(values.metrics!)).text(), name);
}

let events = 0;
let frames = 0;
let lastT = 0;
const socket = new WebSocket(values.url!);
socket.on('message', (data: WebSocket.RawData) => {
  frames++;
  for (const e of JSON.parse(data.toString()) as { ev: string; t?: number }[]) {
    if (e.ev === 'C') {
      events++;
      lastT = e.t ?? lastT;
    }
  }
});
await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
socket.send(JSON.stringify({ action: 'auth', params: key }));
socket.send(JSON.stringify({ action: 'subscribe', params: 'C.*' }));
await new Promise((r) => setTimeout(r, 2000)); // warm up

const sample = async () => ({
  at: performance.now(),
  events,
  frames,
  cpu: await metric('process_cpu_seconds_total'),
  skipped: await metric('simulator_quotes_skipped_total'),
});
const start = await sample();
await new Promise((r) => setTimeout(r, seconds * 1000));
const end = await sample();
const wall = (end.at - start.at) / 1000;
const received = (end.events - start.events) / wall;
const cpu = (end.cpu - start.cpu) / wall;
console.log(
  JSON.stringify({
    receivedQuotesPerSecond: Math.round(received),
    eventsPerFrame: Math.round((end.events - start.events) / (end.frames - start.frames)),
    simulatorCpuShareOfOneCore: Number(cpu.toFixed(3)),
    quotesPerSimulatorCpuSecond: Math.round(received / cpu),
    streamLagSeconds: await metric('simulator_stream_lag_seconds'),
    quotesSkipped: end.skipped - start.skipped,
    lastQuoteAgeMs: Date.now() - lastT,
  }),
);
socket.close();
