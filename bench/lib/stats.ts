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
 * Runs `rounds` rounds of every side, rotating which goes first (for two sides:
 * product–baseline, baseline–product, …) so that a drift in the machine's load favours
 * none of them. Returns each side's results in round order.
 */
export async function rotate<T>(
  rounds: number,
  sides: Record<string, (round: number) => Promise<T>>,
  log: (line: string) => void = () => undefined,
): Promise<Record<string, T[]>> {
  const names = Object.keys(sides);
  const out: Record<string, T[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(round + i) % names.length]!;
      const result = await sides[name]!(round);
      out[name]!.push(result);
      log(`round ${round + 1}/${rounds} ${name}: ${JSON.stringify(result)}`);
    }
  }
  return out;
}

/** `rotate` with the two usual sides. */
export async function alternate<P, B>(
  rounds: number,
  product: (round: number) => Promise<P>,
  baseline: (round: number) => Promise<B>,
  log: (line: string) => void = () => undefined,
): Promise<Sides<P, B>> {
  const out = await rotate<P | B>(rounds, { product, baseline }, log);
  return { product: out.product as P[], baseline: out.baseline as B[] };
}
