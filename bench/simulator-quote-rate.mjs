/* global fetch, setTimeout, performance */
// Measures how many quotes per second the simulator sustains on one core.
// Start the simulator first (npm run build), e.g.
//   METRICS_PORT=9464 node bin/market-pipeline.js simulate --rate 5000
// then run this client in another process:
//   node bench/simulator-quote-rate.mjs [--url ws://127.0.0.1:8765/forex] [--metrics http://127.0.0.1:9464/metrics] [--seconds 10]
// It subscribes to C.*, counts the events it receives, and reads the simulator's own CPU
// time (process_cpu_seconds_total) and stream lag from /metrics. Quotes per CPU-second of
// the simulator is its single-core capacity, whatever else the machine is doing.
import WebSocket from 'ws';

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .reduce(
      (pairs, arg, i, all) => (arg.startsWith('--') ? [...pairs, [arg.slice(2), all[i + 1]]] : pairs),
      [],
    ),
);
const url = args.url ?? 'ws://127.0.0.1:8765/forex';
const metricsUrl = args.metrics ?? 'http://127.0.0.1:9464/metrics';
const seconds = Number(args.seconds ?? 10);
const key = process.env.POLYGON_API_KEY ?? 'simulator-demo-key';

async function metric(name) {
  const text = await (await fetch(metricsUrl)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  return line ? Number(line.split(' ').at(-1)) : Number.NaN;
}

let events = 0;
let frames = 0;
let lastT = 0;
const socket = new WebSocket(url);
socket.on('message', (data) => {
  frames++;
  const parsed = JSON.parse(data.toString());
  for (const e of parsed) {
    if (e.ev === 'C') {
      events++;
      lastT = e.t;
    }
  }
});
await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
socket.send(JSON.stringify({ action: 'auth', params: key }));
socket.send(JSON.stringify({ action: 'subscribe', params: 'C.*' }));
await new Promise((r) => setTimeout(r, 2000)); // warm up

const start = {
  at: performance.now(),
  events,
  frames,
  cpu: await metric('process_cpu_seconds_total'),
  skipped: await metric('simulator_quotes_skipped_total'),
};
await new Promise((r) => setTimeout(r, seconds * 1000));
const end = {
  at: performance.now(),
  events,
  frames,
  cpu: await metric('process_cpu_seconds_total'),
  skipped: await metric('simulator_quotes_skipped_total'),
};
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
