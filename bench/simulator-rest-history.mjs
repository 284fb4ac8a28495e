/* global fetch, performance */
// Times a gap filler's worst case against the simulator: two years of 5-minute bars for
// every symbol through REST, following next_url. Start the simulator first, e.g.
//   node bin/market-pipeline.js simulate
//   node bench/simulator-rest-history.mjs [--base http://127.0.0.1:8765] [--metrics http://127.0.0.1:9464/metrics]
//                                         [--days 730] [--limit 50000] [--tickers C:EURUSD,…]
// Besides wall time it reports the simulator's own CPU time (from /metrics), which does not
// depend on what else the machine is doing.
const args = Object.fromEntries(
  process.argv
    .slice(2)
    .reduce(
      (pairs, arg, i, all) => (arg.startsWith('--') ? [...pairs, [arg.slice(2), all[i + 1]]] : pairs),
      [],
    ),
);
const base = args.base ?? 'http://127.0.0.1:8765';
const days = Number(args.days ?? 730);
const limit = Number(args.limit ?? 50000);
const key = process.env.POLYGON_API_KEY ?? 'simulator-demo-key';
const metricsUrl = args.metrics ?? 'http://127.0.0.1:9464/metrics';
async function cpuSeconds() {
  const text = await (await fetch(metricsUrl)).text();
  return Number(
    text
      .split('\n')
      .find((l) => l.startsWith('process_cpu_seconds_total'))
      .split(' ')
      .at(-1),
  );
}
const tickers = (args.tickers ?? 'C:EURUSD,C:GBPUSD,C:USDJPY,C:XAUUSD').split(',');

const to = Date.now();
const from = to - days * 86_400_000;
const cpuBefore = await cpuSeconds();
const started = performance.now();
let bars = 0;
let requests = 0;
for (const ticker of tickers) {
  let url = `${base}/v2/aggs/ticker/${ticker}/range/5/minute/${from}/${to}?limit=${limit}&apiKey=${key}`;
  while (url) {
    const body = await (await fetch(url)).json();
    requests++;
    if (body.status !== 'OK') throw new Error(JSON.stringify(body));
    bars += body.resultsCount;
    url = body.next_url ? `${body.next_url}&apiKey=${key}` : undefined;
  }
}
const seconds = (performance.now() - started) / 1000;
const simulatorCpuSeconds = (await cpuSeconds()) - cpuBefore;
console.log(
  JSON.stringify({
    tickers: tickers.length,
    days,
    limit,
    requests,
    bars,
    seconds: Number(seconds.toFixed(2)),
    simulatorCpuSeconds: Number(simulatorCpuSeconds.toFixed(2)),
  }),
);
