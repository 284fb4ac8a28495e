// A gap filler's worst case against the simulator: two years of 5-minute bars for every
// symbol through REST, following next_url. Start the simulator first, e.g.
//   node bin/market-pipeline.js simulate
//   node dist/bench/bench/simulator-rest-history.js [--base http://127.0.0.1:8765]
//        [--metrics http://127.0.0.1:9464/metrics] [--days 730] [--limit 50000] [--tickers C:EURUSD,…]
// Besides wall time it reports the simulator's own CPU time (from /metrics), which does not
// depend on what else the machine is doing.
import { parseArgs } from 'node:util';
import { sumMetric } from './lib/processes.js';

const { values } = parseArgs({
  options: {
    base: { type: 'string', default: 'http://127.0.0.1:8765' },
    metrics: { type: 'string', default: 'http://127.0.0.1:9464/metrics' },
    days: { type: 'string', default: '730' },
    limit: { type: 'string', default: '50000' },
    tickers: { type: 'string', default: 'C:EURUSD,C:GBPUSD,C:USDJPY,C:XAUUSD' },
  },
});
const days = Number(values.days);
const limit = Number(values.limit);
const key = process.env.POLYGON_API_KEY ?? 'simulator-demo-key';
const cpuSeconds = async () =>
  sumMetric(await (await fetch(values.metrics!)).text(), 'process_cpu_seconds_total');

interface Page {
  status: string;
  resultsCount: number;
  next_url?: string;
}

const to = Date.now();
const from = to - days * 86_400_000;
const cpuBefore = await cpuSeconds();
const started = performance.now();
let bars = 0;
let requests = 0;
for (const ticker of values.tickers!.split(',')) {
  let url: string | undefined =
    `${values.base}/v2/aggs/ticker/${ticker}/range/5/minute/${from}/${to}?limit=${limit}&apiKey=${key}`;
  while (url) {
    const body = (await (await fetch(url)).json()) as Page;
    requests++;
    if (body.status !== 'OK') throw new Error(JSON.stringify(body));
    bars += body.resultsCount;
    url = body.next_url ? `${body.next_url}&apiKey=${key}` : undefined;
  }
}
const seconds = (performance.now() - started) / 1000;
console.log(
  JSON.stringify({
    tickers: values.tickers!.split(',').length,
    days,
    limit,
    requests,
    bars,
    seconds: Number(seconds.toFixed(2)),
    simulatorCpuSeconds: Number(((await cpuSeconds()) - cpuBefore).toFixed(2)),
  }),
);
