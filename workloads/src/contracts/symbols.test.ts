import { describe, expect, it } from '@jest/globals';
import {
  defaultPipSize,
  pipSizeOf,
  polygonRestTicker,
  subjectToken,
  symbolFromPolygonPair,
  symbolSchema,
  toPips,
} from './symbols.js';

describe('symbols', () => {
  it('accepts canonical symbols and refuses other spellings', () => {
    expect(symbolSchema.safeParse('EUR/USD').success).toBe(true);
    for (const bad of ['eur/usd', 'EURUSD', 'EUR-USD', 'EUR/USDX', 'C:EURUSD', '']) {
      expect(symbolSchema.safeParse(bad).success).toBe(false);
    }
  });

  it('spells a symbol for subjects, Polygon REST and Polygon WebSocket', () => {
    expect(subjectToken('XAU/USD')).toBe('XAUUSD');
    expect(polygonRestTicker('USD/JPY')).toBe('C:USDJPY');
    expect(symbolFromPolygonPair('EUR/USD')).toBe('EUR/USD');
    expect(symbolFromPolygonPair('eur-usd')).toBe('EUR/USD');
    expect(symbolFromPolygonPair('EURUSD')).toBeUndefined();
  });

  it('uses the right pip per symbol, with overrides winning', () => {
    expect(defaultPipSize('EUR/USD')).toBe(0.0001);
    expect(defaultPipSize('USD/JPY')).toBe(0.01);
    expect(defaultPipSize('EUR/JPY')).toBe(0.01);
    expect(defaultPipSize('XAU/USD')).toBe(0.01);
    expect(defaultPipSize('XAG/USD')).toBe(0.001);
    expect(pipSizeOf('XAU/USD', { 'XAU/USD': 0.1 })).toBe(0.1);
    expect(pipSizeOf('GBP/USD', { 'XAU/USD': 0.1 })).toBe(0.0001);
  });

  it('expresses price differences in pips without binary noise', () => {
    // The seed's example: a 0.0002 spread on EUR/USD is 2.0 pips (not 0.20).
    expect(toPips(1.085 - 1.0848, 0.0001)).toBe(2);
    expect(toPips(151.237 - 151.225, 0.01)).toBe(1.2);
    expect(toPips(2351.45 - 2351.1, 0.01)).toBe(35);
  });
});
