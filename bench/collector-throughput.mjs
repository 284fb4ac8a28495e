#!/usr/bin/env node
/* global fetch, setTimeout */
// Collector throughput: the simulator replays a file of distinct quotes as fast as the
// collector reads them; the collector (one process, built in dist/) publishes them to a
// nats-server of its own; this script reads the collector's /metrics every second and
// reports confirmed ticks per second.
//
//   npm run build && node bench/collector-throughput.mjs [--quotes 1000000] [--per-frame 100]
//
// Needs nats-server on PATH. Everything runs on loopback; all three processes share the
// machine, so the numbers are a floor for the collector alone.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    quotes: { type: 'string', default: '1000000' },
    'per-frame': { type: 'string', default: '100' },
  },
});
const total = Number(values.quotes);
const perFrame = Number(values['per-frame']);
const root = path.dirname(path.dirname(new URL(import.meta.url).pathname));
const dir = mkdtempSync(path.join(os.tmpdir(), 'collector-bench-'));
const children = [];

function freePort() {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function writeReplay(file) {
  const out = createWriteStream(file);
  const symbols = ['EUR/USD', 'GBP/USD', 'USD/JPY', 'XAU/USD'];
  const level = { 'EUR/USD': 1.08, 'GBP/USD': 1.25, 'USD/JPY': 151.2, 'XAU/USD': 2351.1 };
  const t0 = Date.parse('2024-05-06T00:00:00Z');
  let frame = [];
  for (let i = 0; i < total; i++) {
    const s = symbols[i % 4];
    const step = s === 'USD/JPY' || s === 'XAU/USD' ? 0.001 : 0.00001;
    const bid = +(level[s] + ((i * 7919) % 1000) * step).toFixed(5);
    // One quote per symbol and millisecond: every quote is distinct.
    frame.push(
      `{"ev":"C","p":"${s}","x":48,"a":${+(bid + 0.0002).toFixed(5)},"b":${bid},"t":${t0 + Math.floor(i / 4)}}`,
    );
    if (frame.length === perFrame || i === total - 1) {
      if (!out.write(`[${frame.join(',')}]\n`)) await new Promise((r) => out.once('drain', r));
      frame = [];
    }
  }
  await new Promise((r) => out.end(r));
}

function run(command, args, env) {
  const child = spawn(command, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', command === 'node' ? 'inherit' : 'ignore', 'inherit'],
  });
  children.push(child);
  return child;
}

async function metric(port, name) {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Interrupted (Ctrl-C, `timeout`): take the servers down with us.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
    process.exit(130);
  });
}

try {
  const replay = path.join(dir, 'replay.jsonl');
  await writeReplay(replay);
  const [natsPort, simPort, simMetrics, colMetrics] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  run('nats-server', ['-a', '127.0.0.1', '-p', String(natsPort), '-js', '-sd', path.join(dir, 'js')], {});
  await sleep(500);
  const bin = path.join(root, 'bin', 'market-pipeline.js');
  run('node', [bin, 'simulate', '--port', String(simPort), '--replay', replay, '--replay-fps', '0'], {
    METRICS_PORT: String(simMetrics),
    LOG_LEVEL: 'warn',
  });
  await sleep(1500);
  const collector = run(
    'node',
    [
      ...(process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROFILE] : []),
      bin,
      'collector',
    ],
    {
      NATS_URL: `nats://127.0.0.1:${natsPort}`,
      SYMBOLS: 'EUR/USD,GBP/USD,USD/JPY,XAU/USD',
      POLYGON_WS_URL: `ws://127.0.0.1:${simPort}/forex`,
      POLYGON_API_KEY: 'simulator-demo-key',
      METRICS_PORT: String(colMetrics),
      LOG_LEVEL: 'warn',
    },
  );
  await sleep(1000);
  let last = 0;
  let started;
  const deadline = Date.now() + 120_000;
  console.log(`quotes=${total} per-frame=${perFrame}`);
  while (Date.now() < deadline) {
    await sleep(1000);
    const now = await metric(colMetrics, 'market_pipeline_collector_ticks_published_total');
    if (now > 0 && started === undefined) started = { at: Date.now() - 1000, count: last };
    const cpu = await metric(colMetrics, 'process_cpu_seconds_total');
    console.log(
      `confirmed ${now}  +${now - last}/s  buffer ${await metric(colMetrics, 'market_pipeline_collector_buffer_depth')}  cpu ${cpu.toFixed(1)}s`,
    );
    last = now;
    if (now >= total) break;
  }
  const seconds = (Date.now() - started.at) / 1000;
  console.log(
    `average: ${Math.round((last - started.count) / seconds)} ticks/s confirmed over ${seconds.toFixed(1)} s`,
  );
  collector.kill('SIGTERM');
  await new Promise((r) => collector.once('exit', r));
} finally {
  for (const child of children.reverse()) if (child.exitCode === null) child.kill('SIGTERM');
  await sleep(300);
  rmSync(dir, { recursive: true, force: true });
}
