// `make bench`: runs the benchmarks against the local real servers, prints a table of
// figures and ratios, and writes the run (figures, rounds, machine, versions) as JSON
// under bench/results/. Every benchmark alternates the product's path with a baseline in
// the same run and reports medians; none of this is a test (no figure fails anything).
//
//   node dist/bench/bench/run.js [--only id,id] [--quick | --tiny] [--rounds N] [--soak-seconds S]
//                          [--profile DIR] [--out DIR]
import path from 'node:path';
import { parseArgs } from 'node:util';
import { aggregator } from './aggregator.js';
import { bridgeFailover } from './bridge-failover.js';
import { bridgeIngest } from './bridge-ingest.js';
import { bridgeScaling } from './bridge-scaling.js';
import { cacheOverhead } from './cache-overhead.js';
import { clickhouseTicks } from './clickhouse-ticks.js';
import { collectorThroughput } from './collector-throughput.js';
import { e2eLatency } from './e2e-latency.js';
import { memory } from './memory.js';
import type { Benchmark, BenchOptions, Size } from './lib/benchmark.js';
import { closeAllResources, serverEnv } from './lib/fixtures.js';
import { machineInfo } from './lib/machine.js';
import { REPO_ROOT, runningProcesses } from './lib/processes.js';
import {
  machineLine,
  markdownTable,
  notesText,
  textTable,
  writeReport,
  type BenchmarkResult,
  type RunReport,
} from './lib/report.js';

export const BENCHMARKS: Benchmark[] = [
  bridgeIngest,
  collectorThroughput,
  e2eLatency,
  aggregator,
  memory,
  bridgeScaling,
  bridgeFailover,
  clickhouseTicks,
  cacheOverhead,
];

const USAGE = `usage: node dist/bench/bench/run.js [options]
  --only a,b          run only these benchmarks (${BENCHMARKS.map((b) => b.id).join(', ')})
  --quick             smaller sizes and fewer rounds (a few minutes)
  --tiny              smallest sizes, one round (the smoke test)
  --rounds N          rounds of product and baseline (default: 5, quick 3, tiny 1)
  --soak-seconds S    length of the memory soak (default 300, quick 60, tiny 5)
  --profile DIR       write CPU profiles (node --cpu-prof) of the product's processes to DIR
  --out DIR           where the JSON goes (default bench/results)
  --markdown          also print the table as Markdown (for the README)`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      quick: { type: 'boolean', default: false },
      tiny: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      'soak-seconds': { type: 'string' },
      profile: { type: 'string' },
      out: { type: 'string' },
      markdown: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const size: Size = values.tiny ? 'tiny' : values.quick ? 'quick' : 'full';
  const only = values.only?.split(',').map((s) => s.trim());
  const unknown = only?.filter((id) => !BENCHMARKS.some((b) => b.id === id)) ?? [];
  if (unknown.length > 0) {
    console.error(`unknown benchmark(s): ${unknown.join(', ')}\n${USAGE}`);
    return 2;
  }
  const positive = (flag: string, text: string | undefined, fallback: number) => {
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer, got '${text}'`);
    return n;
  };
  const options: BenchOptions = {
    size,
    rounds: positive('--rounds', values.rounds, { tiny: 1, quick: 3, full: 5 }[size]),
    soakSeconds: positive('--soak-seconds', values['soak-seconds'], { tiny: 5, quick: 60, full: 300 }[size]),
    profileDir: values.profile ? path.resolve(values.profile) : undefined,
    log: (line) => console.error(`  ${line}`),
  };
  const selected = BENCHMARKS.filter((b) => !only || only.includes(b.id));

  const startedAt = new Date();
  const machine = await machineInfo(serverEnv());
  console.error(`machine: ${machineLine(machine)}`);
  const results: BenchmarkResult[] = [];
  for (const bench of selected) {
    console.error(`\n== ${bench.id}: ${bench.title}`);
    const t = performance.now();
    try {
      results.push(await bench.run(options));
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      console.error(`  FAILED: ${message}`);
      results.push({ id: bench.id, title: bench.title, rows: [], notes: [], details: {}, error: message });
    }
    console.error(`  (${((performance.now() - t) / 1000).toFixed(0)} s)`);
  }

  const report: RunReport = {
    schema: 1,
    date: startedAt.toISOString(),
    command: `node dist/bench/bench/run.js ${process.argv.slice(2).join(' ')}`.trim(),
    options: { size, rounds: options.rounds, soakSeconds: options.soakSeconds, only: only ?? 'all' },
    machine,
    benchmarks: results,
  };
  const file = writeReport(
    report,
    values.out ? path.resolve(values.out) : path.join(REPO_ROOT, 'bench/results'),
  );
  console.log(`\n${machineLine(machine)}; ${startedAt.toISOString()}\n`);
  console.log(textTable(report));
  const notes = notesText(report);
  if (notes) console.log(`\nnotes:\n${notes}`);
  if (values.markdown) console.log(`\n${markdownTable(report)}`);
  console.log(`\nresults: ${path.relative(process.cwd(), file)}`);
  return results.some((r) => r.error) ? 1 : 0;
}

// Interrupted: stop the processes this run started, the private nats-servers, and drop
// the databases, then exit.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping and cleaning up`);
    void Promise.all(runningProcesses().map((p) => p.stop(3000)))
      .then(() => closeAllResources())
      .finally(() => process.exit(130));
  });
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(2);
  },
);
