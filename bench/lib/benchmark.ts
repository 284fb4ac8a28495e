// The shape every benchmark module has, and the options the driver gives it.
import type { BenchmarkResult } from './report.js';

export type Size = 'tiny' | 'quick' | 'full';

export interface BenchOptions {
  /** tiny: the smoke test (seconds, proves it works); quick: minutes; full: `make bench`. */
  size: Size;
  /** Rounds of product and baseline (alternating). */
  rounds: number;
  /** Length of the memory soak. */
  soakSeconds: number;
  /** Write V8 CPU profiles of the product's processes here. */
  profileDir?: string;
  log(line: string): void;
}

export interface Benchmark {
  id: string;
  title: string;
  run(options: BenchOptions): Promise<BenchmarkResult>;
}

/** A figure that depends on the size of the run. */
export function bySize<T>(size: Size, values: Record<Size, T>): T {
  return values[size];
}
