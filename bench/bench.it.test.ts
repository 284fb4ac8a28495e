// The benchmarks must not rot: every one of them runs at its smallest size (--tiny, one
// round, a few seconds of soak) against the real test servers, through the same compiled
// driver `make bench` runs. Only the shape of the results is checked: figures taken on a
// shared machine mean nothing to a test, so no timing is asserted.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, jest } from '@jest/globals';
import { z } from 'zod';
import { ensureBuilt } from '../test/support/built-cli.js';

jest.setTimeout(900_000);

const root = process.cwd();
const BENCHMARK_IDS = [
  'bridge-ingest',
  'collector-throughput',
  'e2e-latency',
  'aggregator',
  'memory',
  'bridge-scaling',
  'bridge-failover',
  'clickhouse-ticks',
  'cache-overhead',
];

const figure = z.number().refine(Number.isFinite, 'a finite number');
const row = z
  .object({
    measure: z.string().min(1),
    unit: z.string().min(1),
    product: figure,
    baseline: figure.optional(),
    baselineName: z.string().optional(),
    ratio: figure.refine((r) => r > 0, 'positive').optional(),
    target: z.string().optional(),
    met: z.boolean().optional(),
    rounds: z.object({ product: z.array(figure).min(1), baseline: z.array(figure).optional() }).optional(),
  })
  .refine((r) => (r.baseline === undefined) === (r.baselineName === undefined), 'a baseline has a name')
  .refine((r) => (r.target === undefined) === (r.met === undefined), 'a target says whether it is met');
const report = z.object({
  schema: z.literal(1),
  date: z.iso.datetime(),
  command: z.string(),
  options: z.object({ size: z.literal('tiny') }).passthrough(),
  machine: z.object({
    cores: z.number().int().positive(),
    cpuModel: z.string().min(1),
    memoryMb: z.number().positive(),
    os: z.string().min(1),
    node: z.string().min(1),
    postgres: z.string().regex(/^\d+/),
    nats: z.string().regex(/^v?\d+\.\d+/),
    clickhouse: z.string().regex(/^\d+\./),
  }),
  benchmarks: z.array(
    z.object({
      id: z.string(),
      title: z.string().min(1),
      rows: z.array(row).min(1),
      notes: z.array(z.string()),
      details: z.record(z.string(), z.unknown()),
      error: z.never().optional(),
    }),
  ),
});

/** Compiles the benchmarks (into dist/bench), one build at a time with the CLI's build. */
async function buildBenchmarks(): Promise<void> {
  await ensureBuilt();
  const lock = path.join(root, 'dist.build-lock');
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    execFileSync('npx', ['tsc', '-p', 'bench/tsconfig.json'], { cwd: root, stdio: 'inherit' });
  } finally {
    rmdirSync(lock);
  }
}

describe('benchmarks (smoke run)', () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'bench-smoke-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('every benchmark runs at its smallest size and reports well-formed figures', async () => {
    await buildBenchmarks();
    const child = spawn(
      process.execPath,
      [path.join(root, 'dist/bench/bench/run.js'), '--tiny', '--soak-seconds', '4', '--out', out],
      { cwd: root, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect({ code, output: code === 0 ? '' : output }).toEqual({ code: 0, output: '' });

    const files = readdirSync(out).filter((f) => f.endsWith('.json'));
    expect(files).toHaveLength(1);
    const parsed = report.parse(JSON.parse(readFileSync(path.join(out, files[0]!), 'utf8')));
    expect(parsed.benchmarks.map((b) => b.id)).toEqual(BENCHMARK_IDS);
    // The terminal table names every benchmark too.
    for (const id of BENCHMARK_IDS) expect(output).toContain(id);
  });
});
