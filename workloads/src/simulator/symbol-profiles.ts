// What a simulated symbol looks like: where its price starts, how many decimals its quotes
// carry, how wide its spread is and how much it moves. Known symbols get realistic values;
// any other valid pair gets a plausible generic profile derived from its name.
import { defaultPipSize } from '../contracts/symbols.js';
import { streamKey, uniform } from './counter-random.js';

export interface SymbolProfile {
  symbol: string;
  /** Decimals of a quote (5 for most FX, 3 for JPY pairs, 2 for gold). */
  decimals: number;
  /** Price level around which the path wanders. */
  centerPrice: number;
  /** Spread range in pips (inclusive); every quote's spread is at least one price unit. */
  spreadPips: { min: number; max: number };
  /** Typical daily relative move (standard deviation), e.g. 0.005 = 0.5 %. */
  dailyVolatility: number;
}

type KnownProfile = Omit<SymbolProfile, 'symbol'>;

const KNOWN: Readonly<Record<string, KnownProfile>> = {
  'EUR/USD': { decimals: 5, centerPrice: 1.085, spreadPips: { min: 0.1, max: 1 }, dailyVolatility: 0.005 },
  'GBP/USD': { decimals: 5, centerPrice: 1.27, spreadPips: { min: 0.3, max: 1.5 }, dailyVolatility: 0.006 },
  'AUD/USD': { decimals: 5, centerPrice: 0.66, spreadPips: { min: 0.2, max: 1.2 }, dailyVolatility: 0.007 },
  'NZD/USD': { decimals: 5, centerPrice: 0.61, spreadPips: { min: 0.5, max: 2 }, dailyVolatility: 0.007 },
  'USD/CAD': { decimals: 5, centerPrice: 1.36, spreadPips: { min: 0.3, max: 1.5 }, dailyVolatility: 0.005 },
  'USD/CHF': { decimals: 5, centerPrice: 0.9, spreadPips: { min: 0.3, max: 1.5 }, dailyVolatility: 0.005 },
  'EUR/GBP': { decimals: 5, centerPrice: 0.855, spreadPips: { min: 0.4, max: 1.5 }, dailyVolatility: 0.004 },
  'USD/JPY': { decimals: 3, centerPrice: 150, spreadPips: { min: 0.2, max: 1 }, dailyVolatility: 0.006 },
  'EUR/JPY': { decimals: 3, centerPrice: 162, spreadPips: { min: 0.5, max: 2 }, dailyVolatility: 0.006 },
  'GBP/JPY': { decimals: 3, centerPrice: 190, spreadPips: { min: 0.8, max: 3 }, dailyVolatility: 0.007 },
  'XAU/USD': { decimals: 2, centerPrice: 2300, spreadPips: { min: 15, max: 40 }, dailyVolatility: 0.01 },
  'XAG/USD': { decimals: 3, centerPrice: 27.5, spreadPips: { min: 15, max: 35 }, dailyVolatility: 0.015 },
};

/** The profile of `symbol` (canonical BASE/QUOTE). */
export function symbolProfile(symbol: string): SymbolProfile {
  const known = KNOWN[symbol];
  if (known) return { symbol, ...known };
  // Generic pair: a level between 0.5 and 2 (50 and 200 for JPY quotes) fixed by its name.
  const jpy = symbol.endsWith('/JPY');
  const level = 0.5 + 1.5 * uniform(streamKey(0, symbol));
  return {
    symbol,
    decimals: jpy ? 3 : 5,
    centerPrice: jpy ? level * 100 : level,
    spreadPips: { min: 0.5, max: 2.5 },
    dailyVolatility: 0.006,
  };
}

/** Spread bounds in price units (10^-decimals), each at least 1. */
export function spreadUnits(profile: SymbolProfile): { min: number; max: number } {
  const unitsPerPip = defaultPipSize(profile.symbol) * 10 ** profile.decimals;
  const min = Math.max(1, Math.round(profile.spreadPips.min * unitsPerPip));
  const max = Math.max(min, Math.round(profile.spreadPips.max * unitsPerPip));
  return { min, max };
}
