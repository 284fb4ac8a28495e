// The product under test runs as it does in production: the built CLI
// (`node bin/market-pipeline.js <command>`), one process per workload, each on its own
// metrics port. This module starts such processes (and the benchmark's own baseline
// scripts), reads their metrics, and samples their memory and CPU time from /proc.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '../../test/support/private-nats.js';
import { WORKLOAD_NODE_OPTIONS } from '../../workloads/src/runtime/node-options.js';

/** The checkout: the nearest folder above this file with bin/market-pipeline.js (source or dist). */
function findRepoRoot(): string {
  let dir = path.dirname(new URL(import.meta.url).pathname);
  while (!existsSync(path.join(dir, 'bin/market-pipeline.js'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('bin/market-pipeline.js not found above the benchmark');
    dir = parent;
  }
  return dir;
}

export const REPO_ROOT = findRepoRoot();

/** A baseline script of bench/baselines, compiled next to this module's own build. */
export function baselineScript(file: string): string {
  return new URL(`../baselines/${file}`, import.meta.url).pathname;
}
const CLI = path.join(REPO_ROOT, 'bin/market-pipeline.js');
const KEEP_LINES = 200;

let clockTicks: number | undefined;
/** Kernel clock ticks per second, the unit of CPU times in /proc/<pid>/stat. */
function clockTicksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

export interface Memory {
  /** Resident set size now (MB). */
  rssMb: number;
  /** Highest resident set size so far (VmHWM, MB). */
  peakMb: number;
}

/** RSS now and its peak, from /proc (Linux). */
export function memoryOf(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
}

/** CPU seconds (user + system) the process has used so far. */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start at ") ".
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / clockTicksPerSecond();
}

/** CPU seconds used so far by every process, by process id, with its command name. */
export type CpuSnapshot = Map<number, { command: string; seconds: number }>;

/**
 * Every process's CPU time, from /proc: what the servers a benchmark drives (nats-server,
 * postgres) spend is part of the cost of a path, and on a small machine it competes with
 * the product for the same cores.
 */
export function cpuSnapshot(): CpuSnapshot {
  const snapshot: CpuSnapshot = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const command = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // Own user + system time, plus that of exited children it has reaped: a PostgreSQL
      // backend that ends within the span (psql's) is only seen in the postmaster's.
      const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
      snapshot.set(Number(entry), { command, seconds: ticks / clockTicksPerSecond() });
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return snapshot;
}

/** CPU seconds spent between two snapshots, summed by command name (processes started in between count whole). */
export function cpuSpentByCommand(before: CpuSnapshot, after: CpuSnapshot): Record<string, number> {
  const spent: Record<string, number> = {};
  for (const [pid, { command, seconds }] of after) {
    const previous = before.get(pid);
    const used = previous?.command === command ? seconds - previous.seconds : seconds;
    if (used > 0) spent[command] = (spent[command] ?? 0) + used;
  }
  return spent;
}

export interface Spawned {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves with the exit code once the process has ended. */
  readonly exited: Promise<number | null>;
  /** The last lines it wrote (stdout and stderr), for error messages. */
  tail(): string;
  memory(): Memory;
  cpuSeconds(): number;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  name: string;
  env: Record<string, string>;
  /** Write a V8 CPU profile (node --cpu-prof) into this directory. */
  profileDir?: string;
  /** Called with every stdout line (the product logs JSON lines). */
  onLine?: (line: string) => void;
}

const running = new Set<Spawned>();

/** Every process started here that is still running (for cleanup on interrupt). */
export function runningProcesses(): Spawned[] {
  return [...running];
}

export function spawnNode(script: string, args: string[], options: SpawnOptions): Spawned {
  const nodeArgs = options.profileDir
    ? [
        '--cpu-prof',
        '--cpu-prof-dir',
        options.profileDir,
        '--cpu-prof-name',
        `${options.name}-${Date.now()}.cpuprofile`,
      ]
    : [];
  const child = spawn(process.execPath, [...nodeArgs, script, ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let partial = '';
  const onData = (chunk: Buffer) => {
    partial += chunk.toString();
    const parts = partial.split('\n');
    partial = parts.pop()!;
    for (const line of parts) {
      options.onLine?.(line);
      lines.push(line);
      if (lines.length > KEEP_LINES) lines.shift();
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${options.name}`);
  const spawned: Spawned = {
    name: options.name,
    child,
    pid,
    exited,
    tail: () => [...lines, partial].join('\n').trim(),
    memory: () => memoryOf(pid),
    cpuSeconds: () => cpuSecondsOf(pid),
    async stop(graceMs = 15_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      running.delete(spawned);
    },
  };
  running.add(spawned);
  void exited.then(() => running.delete(spawned));
  return spawned;
}

/** A product workload with its ops port (metrics, readiness). */
export interface Workload extends Spawned {
  readonly metricsPort: number;
  /** The Prometheus text of /metrics. */
  metricsText(): Promise<string>;
  /** Sum of a metric's series whose labels include `labels`. */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  /** Resolves once /readyz answers 200; fails if the process exits or `timeoutMs` passes. */
  waitReady(timeoutMs?: number): Promise<void>;
}

export async function startWorkload(args: string[], options: SpawnOptions): Promise<Workload> {
  const metricsPort = await freePort();
  const spawned = spawnNode(CLI, args, {
    ...options,
    // The flags the images and the operator's pods give every workload (runtime/node-options.ts).
    env: {
      LOG_LEVEL: 'warn',
      NODE_OPTIONS: WORKLOAD_NODE_OPTIONS,
      ...options.env,
      METRICS_PORT: String(metricsPort),
    },
  });
  const base = `http://127.0.0.1:${metricsPort}`;
  const metricsText = async () => (await fetch(`${base}/metrics`)).text();
  return {
    ...spawned,
    metricsPort,
    metricsText,
    async metric(name, labels = {}) {
      return sumMetric(await metricsText(), name, labels);
    },
    async waitReady(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      let last = 'no answer';
      while (Date.now() < deadline) {
        if (spawned.child.exitCode !== null) {
          throw new Error(`${options.name} exited (code ${spawned.child.exitCode}):\n${spawned.tail()}`);
        }
        try {
          const res = await fetch(`${base}/readyz`);
          last = (await res.text()).trim();
          if (res.ok) return;
        } catch (error) {
          last = (error as Error).message;
        }
        await sleep(50);
      }
      throw new Error(`${options.name} not ready within ${timeoutMs} ms (${last}):\n${spawned.tail()}`);
    },
  };
}

/** Sum of the samples of `name` (not its _bucket/_sum/_count) whose labels include `labels`. */
export function sumMetric(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' ')) continue;
    const match = /^[^{ ]+(?:\{([^}]*)\})? (\S+)/.exec(line);
    if (!match) continue;
    const have = Object.fromEntries(
      (match[1] ?? '')
        .split(',')
        .filter(Boolean)
        .map((pair) => {
          const eq = pair.indexOf('=');
          return [pair.slice(0, eq), pair.slice(eq + 2, -1)];
        }),
    );
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(match[2]);
  }
  return sum;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every `everyMs` until it returns true; fails with `what` after `timeoutMs`. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  everyMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}
