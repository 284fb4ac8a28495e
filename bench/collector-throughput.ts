// 2. Collector throughput: the simulator replays N distinct quotes (Polygon frames of
// PER_FRAME quotes) as fast as the collector reads them; one collector process turns them
// into ticks and publishes them to a private nats-server, each confirmed by JetStream
// before it counts. Baselines: a minimal script publishing the same payloads (subject,
// Nats-Msg-Id, JSON) to the same stream, raw (reply subject per message, one ack
// subscription) and through js.publish(). Besides the rate on the wall clock, the
// collector's CPU time gives its capacity on one core (the machine's other core serves
// nats-server and the simulator, and other helpers' work).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Quote } from '../workloads/src/collector/polygon-frames.js';
import { STREAMS } from '../workloads/src/contracts/subjects.js';
import { bySize, type Benchmark, type BenchOptions } from './lib/benchmark.js';
import { privateNats, Resources, type BenchNats } from './lib/fixtures.js';
import { startCollectorProcess, startSimulatorProcess } from './lib/pipeline.js';
import { baselineScript, sleep, spawnNode, waitFor } from './lib/processes.js';
import type { BenchmarkResult, ResultRow } from './lib/report.js';
import { median, rotate } from './lib/stats.js';
import { benchQuotes, SYMBOLS, tickMessages, writeReplayFile } from './lib/ticks.js';
import { tempDir } from './lib/files.js';

/** Quotes per WebSocket frame: Polygon batches quotes into JSON arrays at high rates. */
export const PER_FRAME = 100;
const FEED_SYMBOLS = SYMBOLS.slice(0, 4);
const POLL_MS = 50;

interface Run {
  rate: number;
  seconds: number;
  /** Ticks per CPU-second of the publishing process (collector, or the baseline script). */
  perCpuSecond: number;
  peakRssMb?: number;
}

async function streamMessages(nats: BenchNats): Promise<number> {
  return (await nats.jsm.streams.info(STREAMS.ticks.name)).state.messages;
}

async function collectorRun(
  nats: BenchNats,
  replayFile: string,
  total: number,
  o: BenchOptions,
): Promise<Run> {
  await nats.resetStream(STREAMS.ticks.name);
  const simulator = await startSimulatorProcess({ replayFile });
  const collector = await startCollectorProcess({
    natsUrl: nats.url,
    wsUrl: simulator.wsUrl,
    symbols: FEED_SYMBOLS,
    profileDir: o.profileDir,
    // The replay is a backlog bigger than the default buffer: hold all of it, drop nothing.
    env: { COLLECTOR_BUFFER_MAX_TICKS: String(Math.max(200_000, total)) },
  });
  try {
    // The clock starts at the first stored tick (process start and connecting left out)
    // and stops when the stream holds all of them; stream info is read from the server,
    // so the collector does no extra work for the measurement.
    let first: { at: number; stored: number; cpu: number } | undefined;
    let last = { at: 0, stored: 0, cpu: 0 };
    const deadline = Date.now() + 600_000;
    while (last.stored < total) {
      if (collector.child.exitCode !== null) throw new Error(`collector exited:\n${collector.tail()}`);
      if (Date.now() > deadline) throw new Error(`collector stored ${last.stored}/${total} in 600 s`);
      await sleep(POLL_MS);
      const stored = await streamMessages(nats);
      last = { at: performance.now(), stored, cpu: collector.cpuSeconds() };
      if (stored > 0 && !first) first = last;
    }
    const seconds = (last.at - first!.at) / 1000;
    const ticks = last.stored - first!.stored;
    await waitFor(
      'the collector to count every tick confirmed',
      async () => (await collector.metric('market_pipeline_collector_ticks_published_total')) >= total,
      10_000,
      100,
    );
    const dropped = await collector.metric('market_pipeline_collector_ticks_dropped_total');
    if (dropped > 0) throw new Error(`the collector dropped ${dropped} ticks`);
    return {
      rate: ticks / seconds,
      seconds,
      perCpuSecond: ticks / (last.cpu - first!.cpu),
      peakRssMb: collector.memory().peakMb,
    };
  } finally {
    await collector.stop();
    await simulator.stop();
  }
}

async function minimalRun(
  nats: BenchNats,
  payloadFile: string,
  total: number,
  mode: 'raw' | 'js',
): Promise<Run> {
  await nats.resetStream(STREAMS.ticks.name);
  let line = '';
  const publisher = spawnNode(
    baselineScript('minimal-publisher.js'),
    ['--nats', nats.url, '--file', payloadFile, '--mode', mode],
    { name: `minimal-publisher-${mode}`, env: {}, onLine: (l) => (line = l.startsWith('{') ? l : line) },
  );
  const code = await publisher.exited;
  if (code !== 0 || !line) throw new Error(`minimal publisher (${mode}) failed:\n${publisher.tail()}`);
  const result = JSON.parse(line) as {
    seconds: number;
    cpuSeconds: number;
    confirmed: number;
    failed: number;
  };
  const stored = await streamMessages(nats);
  if (result.failed > 0 || stored !== total) {
    throw new Error(`minimal publisher (${mode}): ${result.failed} failed, ${stored}/${total} stored`);
  }
  return { rate: total / result.seconds, seconds: result.seconds, perCpuSecond: total / result.cpuSeconds };
}

function payloadLines(quotes: readonly Quote[]): string {
  return tickMessages(quotes)
    .map((m) => JSON.stringify({ subject: m.subject, msgId: m.msgId, data: m.data }))
    .join('\n');
}

async function run(o: BenchOptions): Promise<BenchmarkResult> {
  const total = bySize(o.size, { tiny: 5_000, quick: 100_000, full: 300_000 });
  const resources = new Resources();
  try {
    const nats = await privateNats(resources);
    const dir = tempDir(resources, 'collector-bench-');
    const quotes = benchQuotes(total, FEED_SYMBOLS);
    const replayFile = path.join(dir, 'replay.jsonl');
    await writeReplayFile(replayFile, quotes, PER_FRAME);
    const payloadFile = path.join(dir, 'payloads.jsonl');
    writeFileSync(payloadFile, payloadLines(quotes));

    const sides = await rotate<Run>(
      o.rounds,
      {
        collector: () => collectorRun(nats, replayFile, total, o),
        'minimal raw': () => minimalRun(nats, payloadFile, total, 'raw'),
        'minimal js.publish': () => minimalRun(nats, payloadFile, total, 'js'),
      },
      o.log,
    );
    const product = sides.collector!;
    const raw = sides['minimal raw']!;
    const js = sides['minimal js.publish']!;
    const rate = median(product.map((r) => r.rate));
    const rawRate = median(raw.map((r) => r.rate));
    const perCpu = median(product.map((r) => r.perCpuSecond));
    const rawPerCpu = median(raw.map((r) => r.perCpuSecond));
    const rows: ResultRow[] = [
      {
        measure: 'ticks WebSocket → JetStream-confirmed (wall clock)',
        unit: 'ticks/s',
        product: rate,
        baseline: rawRate,
        baselineName: 'minimal publisher',
        ratio: rate / rawRate,
        target: '≥ 0.5 × minimal',
        met: rate / rawRate >= 0.5,
        rounds: { product: product.map((r) => r.rate), baseline: raw.map((r) => r.rate) },
      },
      {
        measure: 'ticks per CPU-second of the publishing process (one core)',
        unit: 'ticks/s',
        product: perCpu,
        baseline: rawPerCpu,
        baselineName: 'minimal publisher',
        ratio: perCpu / rawPerCpu,
        target: '≥ 100,000 on one core',
        met: perCpu >= 100_000,
        rounds: { product: product.map((r) => r.perCpuSecond), baseline: raw.map((r) => r.perCpuSecond) },
      },
      {
        measure: 'ticks JetStream-confirmed (wall clock), js.publish() reference',
        unit: 'ticks/s',
        product: rate,
        baseline: median(js.map((r) => r.rate)),
        baselineName: 'js.publish, window 1000',
        ratio: rate / median(js.map((r) => r.rate)),
        rounds: { product: product.map((r) => r.rate), baseline: js.map((r) => r.rate) },
      },
    ];
    return {
      id: 'collector-throughput',
      title: 'Collector: WebSocket frames → JetStream-confirmed ticks, one process',
      rows,
      notes: [
        `${total} distinct quotes of ${FEED_SYMBOLS.length} symbols replayed by the simulator at full speed, ${PER_FRAME} quotes per frame; collector with its defaults except COLLECTOR_BUFFER_MAX_TICKS = ${Math.max(200_000, total)} (the replay is one backlog; the default 200,000 would drop the excess); ${o.rounds} rounds`,
        'rate from the first tick stored to the last, read from the stream on the server; a tick counts once JetStream confirmed it',
        'minimal publisher: the same subjects, Nats-Msg-Id and JSON, read into memory first, timed from the first publish to the last confirmation; raw = reply subject per message + one ack subscription, window 1000',
        'the simulator and nats-server run on the same 2 cores as the collector: the wall-clock rate is shared-machine throughput, the per-CPU-second figure is the collector alone',
      ],
      details: {
        total,
        perFrame: PER_FRAME,
        collector: product,
        minimalRaw: raw,
        minimalJs: js,
      },
    };
  } finally {
    await resources.closeAll();
  }
}

export const collectorThroughput: Benchmark = {
  id: 'collector-throughput',
  title: 'Collector throughput',
  run,
};
