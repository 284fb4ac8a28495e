import { describe, expect, it } from '@jest/globals';
import { SilenceWatch } from './silence-watch.js';

const MIN = 60_000;

describe('silent-feed detection', () => {
  const symbols = ['EUR/USD', 'USD/JPY'];

  it('flags a symbol silent past the threshold in market hours, once, and clears it when it speaks', () => {
    const watch = new SilenceWatch(symbols, 5 * MIN, () => true, 0);
    const heard = new Map<string, number>([['USD/JPY', 4 * MIN]]);
    expect(watch.check(5 * MIN, (s) => heard.get(s))).toEqual([]);
    expect(watch.check(6 * MIN, (s) => heard.get(s))).toEqual([
      { symbol: 'EUR/USD', silent: true, silentForMs: 6 * MIN },
    ]);
    expect(watch.isSilent('EUR/USD')).toBe(true);
    expect(watch.check(7 * MIN, (s) => heard.get(s))).toEqual([]); // reported once
    heard.set('EUR/USD', 7 * MIN);
    expect(watch.check(8 * MIN, (s) => heard.get(s))).toEqual([
      { symbol: 'EUR/USD', silent: false, silentForMs: MIN },
    ]);
    expect(watch.check(10 * MIN, (s) => heard.get(s))).toEqual([
      { symbol: 'USD/JPY', silent: true, silentForMs: 6 * MIN },
    ]);
  });

  it('expects silence while the market is closed', () => {
    let open = false;
    const watch = new SilenceWatch(symbols, 5 * MIN, () => open, 0);
    expect(watch.check(60 * MIN, () => undefined)).toEqual([]);
    open = true;
    expect(watch.check(61 * MIN, () => undefined).map((c) => c.symbol)).toEqual(symbols);
    open = false;
    expect(watch.check(62 * MIN, () => undefined).every((c) => !c.silent)).toBe(true);
  });
});
