// Canonical symbols ("EUR/USD") and the other spellings each system uses for them,
// plus pip sizes. One module, so that producers and consumers can never drift apart.
import { z } from 'zod';

/** Upper-case base/quote of three letters each, e.g. EUR/USD, XAU/USD. */
export const SYMBOL_PATTERN = /^[A-Z]{3}\/[A-Z]{3}$/;

export const symbolSchema = z
  .string()
  .regex(SYMBOL_PATTERN, 'a symbol is BASE/QUOTE in upper case, e.g. EUR/USD');

export type Symbol = z.infer<typeof symbolSchema>;

/** Token used in NATS subjects and Kafka keys: EUR/USD → EURUSD. */
export function subjectToken(symbol: string): string {
  return symbol.replace('/', '');
}

/** Polygon REST ticker: EUR/USD → C:EURUSD. */
export function polygonRestTicker(symbol: string): string {
  return `C:${subjectToken(symbol)}`;
}

/** Polygon WebSocket pair (the `p` field and the subscription param): EUR/USD as is. */
export function polygonPair(symbol: string): string {
  return symbol;
}

/**
 * Canonical symbol from a Polygon pair. Accepts "EUR/USD" (what the server sends) and
 * "EUR-USD" (the spelling of the newest docs), in any case.
 */
export function symbolFromPolygonPair(pair: string): string | undefined {
  const normal = pair.trim().toUpperCase().replace('-', '/');
  return SYMBOL_PATTERN.test(normal) ? normal : undefined;
}

/**
 * Default pip size: 0.01 when the quote currency is JPY, 0.01 for gold, 0.001 for silver,
 * 0.0001 otherwise. Overrides (per symbol) win.
 */
export function defaultPipSize(symbol: string): number {
  if (symbol === 'XAU/USD') return 0.01;
  if (symbol === 'XAG/USD') return 0.001;
  if (symbol.endsWith('/JPY')) return 0.01;
  return 0.0001;
}

export type PipSizes = Readonly<Record<string, number>>;

export function pipSizeOf(symbol: string, overrides: PipSizes = {}): number {
  return overrides[symbol] ?? defaultPipSize(symbol);
}

/**
 * Price differences expressed in pips, rounded to 1e-6 pip: enough for any real price and
 * it removes binary noise such as 2.0000000000042 from (1.0850 - 1.0848) / 0.0001.
 */
export function toPips(priceDifference: number, pipSize: number): number {
  return Math.round((priceDifference / pipSize) * 1e6) / 1e6;
}
