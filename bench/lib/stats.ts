// Statistics for benchmark rounds, and the rule every benchmark follows: the product's path
// and its baseline run in the same process of measurement, alternating, and each reports
// the median of its rounds. Other helpers share the machine's cores, so a single round can
// be slowed by anything; alternation spreads that over both sides, the median drops it.

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Nearest-rank percentile (p in 0..1) of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(p * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export interface Distribution {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export function distribution(values: readonly number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p99: percentile(sorted, 0.99),
    max: sorted.at(-1) ?? Number.NaN,
  };
}

/** Least-squares slope of y over x (per unit of x). */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return 0;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    sx += xs[i]!;
    sy += ys[i]!;
  }
  const mx = sx / n;
  const my = sy / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

export interface Sides<P, B> {
  product: P[];
  baseline: B[];
}

/**
 * Runs `rounds` rounds of both sides, alternating which goes first (product–baseline,
 * baseline–product, …) so that a drift in the machine's load favours neither.
 */
export async function alternate<P, B>(
  rounds: number,
  product: (round: number) => Promise<P>,
  baseline: (round: number) => Promise<B>,
  log: (line: string) => void = () => undefined,
): Promise<Sides<P, B>> {
  const out: Sides<P, B> = { product: [], baseline: [] };
  for (let round = 0; round < rounds; round++) {
    const runProduct = async () => {
      const result = await product(round);
      out.product.push(result);
      log(`round ${round + 1}/${rounds} product: ${JSON.stringify(result)}`);
    };
    const runBaseline = async () => {
      const result = await baseline(round);
      out.baseline.push(result);
      log(`round ${round + 1}/${rounds} baseline: ${JSON.stringify(result)}`);
    };
    if (round % 2 === 0) {
      await runProduct();
      await runBaseline();
    } else {
      await runBaseline();
      await runProduct();
    }
  }
  return out;
}

/**
 * Throughput of a run observed as (time, items done) samples: from the first sample with
 * any progress to the one that completes `total`. Startup (process boot, connecting, the
 * first batch) is left out; what remains is the steady rate.
 */
export function steadyRate(samples: readonly { atMs: number; done: number }[], total: number): number {
  const first = samples.find((s) => s.done > 0);
  const last = samples.find((s) => s.done >= total);
  if (!first || !last || last.atMs <= first.atMs) return Number.NaN;
  return ((last.done - first.done) * 1000) / (last.atMs - first.atMs);
}

export const round2 = (x: number): number => Math.round(x * 100) / 100;
