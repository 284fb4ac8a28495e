// Deterministic quotes: the quote of a symbol at a time is a pure function of
// (seed, symbol, time, sub-index). The mid price is the symbol's centre level moved by a
// sum of seeded components on several time scales (1 minute … 60 days; each interpolates
// between hashed knots, so it can be evaluated at any instant without summing from an
// origin, and it is bounded, i.e. mean-reverting) plus hashed per-quote noise. The spread
// is hashed per quote within the symbol's range. Prices are rounded to the symbol's quote
// precision and held as integers of that unit, so bid/ask print as exact decimals.
import { counterHash, streamKey, triangular, uniform } from './counter-random.js';
import { spreadUnits, symbolProfile, type SymbolProfile } from './symbol-profiles.js';

export interface Quote {
  /** Canonical symbol, which is also Polygon's WebSocket pair spelling (EUR/USD). */
  symbol: string;
  bid: number;
  ask: number;
  /** Unix ms. */
  t: number;
}

const DAY_MS = 86_400_000;
/** Knot spacing of each component of the path. */
const SCALES_MS = [60_000, 600_000, 3_600_000, 21_600_000, 129_600_000, 864_000_000, 5_184_000_000];
/** Standard deviation of `triangular()`. */
const TRIANGULAR_SD = Math.sqrt(1 / 6);
/** Share of a pure random walk's spread that each component gets (keeps the sum realistic). */
const COMPONENT_WEIGHT = 0.6;
/** Horizon whose random-walk size the per-quote noise imitates. */
const NOISE_HORIZON_MS = 5_000;

// Local aliases: see counter-random.ts.
const { exp, floor, round } = Math;

const STREAM_NOISE = 1;
const STREAM_SPREAD = 2;
const STREAM_KNOTS = 16;

export class QuoteGenerator {
  readonly profile: SymbolProfile;
  private readonly key: number;
  private readonly unitsPerPrice: number;
  private readonly spread: { min: number; max: number };
  private readonly amplitudes: number[];
  private readonly noiseAmplitude: number;
  /** Per component: knot index, value at that knot, value at the next knot. */
  private readonly knots: Float64Array;

  constructor(seed: number, symbol: string) {
    this.profile = symbolProfile(symbol);
    this.key = streamKey(seed, symbol);
    this.unitsPerPrice = 10 ** this.profile.decimals;
    this.spread = spreadUnits(this.profile);
    const vol = this.profile.dailyVolatility;
    this.amplitudes = SCALES_MS.map((s) => (vol * Math.sqrt(s / DAY_MS) * COMPONENT_WEIGHT) / TRIANGULAR_SD);
    this.noiseAmplitude = (vol * Math.sqrt(NOISE_HORIZON_MS / DAY_MS)) / TRIANGULAR_SD;
    this.knots = new Float64Array(SCALES_MS.length * 3).fill(Number.NaN);
  }

  get symbol(): string {
    return this.profile.symbol;
  }

  /** The quote at `t`; `sub` numbers the quotes that share one millisecond (0 otherwise). */
  quoteAt(t: number, sub = 0): Quote {
    const { bidUnits, askUnits } = this.quoteUnits(t, sub);
    return {
      symbol: this.profile.symbol,
      bid: bidUnits / this.unitsPerPrice,
      ask: askUnits / this.unitsPerPrice,
      t,
    };
  }

  /**
   * The `count` quotes of one millisecond. They are made pairwise distinct (a collision
   * widens the later quote's spread by one unit) because the pipeline identifies a quote
   * by (symbol, time, bid, ask): two equal quotes in one millisecond would count once.
   */
  quotesAt(t: number, count: number, into: Quote[]): void {
    if (count === 1) {
      into.push(this.quoteAt(t));
      return;
    }
    const seen = new Set<number>();
    for (let sub = 0; sub < count; sub++) {
      const units = this.quoteUnits(t, sub);
      const bidUnits = units.bidUnits;
      let askUnits = units.askUnits;
      // bid and ask are below 2^26 units for any realistic price, so this packing is exact.
      while (seen.has(bidUnits * 2 ** 26 + askUnits)) askUnits++;
      seen.add(bidUnits * 2 ** 26 + askUnits);
      into.push({
        symbol: this.profile.symbol,
        bid: bidUnits / this.unitsPerPrice,
        ask: askUnits / this.unitsPerPrice,
        t,
      });
    }
  }

  private quoteUnits(t: number, sub: number): { bidUnits: number; askUnits: number } {
    const noise = triangular(counterHash(this.key, STREAM_NOISE, t, sub)) * this.noiseAmplitude;
    const mid = this.profile.centerPrice * exp(this.pathDeviation(t) + noise) * this.unitsPerPrice;
    const { min, max } = this.spread;
    const spread = min + floor(uniform(counterHash(this.key, STREAM_SPREAD, t, sub)) * (max - min + 1));
    const bidUnits = round(mid - spread / 2);
    return { bidUnits, askUnits: bidUnits + spread };
  }

  /** Sum of the multi-scale components at `t` (log-price deviation from the centre). */
  private pathDeviation(t: number): number {
    let sum = 0;
    for (let i = 0; i < SCALES_MS.length; i++) {
      const scale = SCALES_MS[i]!;
      const index = floor(t / scale);
      const slot = i * 3;
      if (this.knots[slot] !== index) {
        const left = this.knots[slot] === index - 1 ? this.knots[slot + 2]! : this.knotValue(i, index);
        this.knots[slot] = index;
        this.knots[slot + 1] = left;
        this.knots[slot + 2] = this.knotValue(i, index + 1);
      }
      const left = this.knots[slot + 1]!;
      const right = this.knots[slot + 2]!;
      sum += (left + (right - left) * ((t - index * scale) / scale)) * this.amplitudes[i]!;
    }
    return sum;
  }

  private knotValue(component: number, index: number): number {
    // Knot indices may be negative for times before 1970; offset them into uint range.
    return triangular(counterHash(this.key, STREAM_KNOTS + component, index + 2 ** 40));
  }
}
