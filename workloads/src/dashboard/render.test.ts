import { describe, expect, it } from '@jest/globals';
import { renderDashboard } from './render.js';

describe('dashboard rendering', () => {
  it('shows ticks per symbol and the latest bars as aligned tables', () => {
    const screen = renderDashboard(
      new Date('2026-11-29T18:00:00Z'),
      [{ symbol: 'EUR/USD', ticks: 12345, lastTickMs: Date.parse('2026-11-29T17:59:59Z') }],
      [
        {
          symbol: 'EUR/USD',
          timeframe: '5m',
          timestampMs: Date.parse('2026-11-29T17:50:00Z'),
          open: 1.08,
          high: 1.0810000000000002,
          low: 1.079,
          close: 1.0805,
          volume: 1500,
          source: 'live_aggregated',
        },
      ],
      [],
    ).split('\n');
    expect(screen[0]).toBe('market-pipeline  2026-11-29 18:00:00 UTC');
    expect(screen).toContain('EUR/USD  12,345        2026-11-29 17:59:59');
    expect(
      screen.some((l) =>
        /^EUR\/USD\s+5m\s+2026-11-29 17:50:00\s+1\.08\s+1\.081\s+1\.079\s+1\.0805\s+1500\s+live_aggregated$/.test(
          l,
        ),
      ),
    ).toBe(true);
  });

  it('says when nothing is stored yet and shows errors', () => {
    const screen = renderDashboard(new Date(0), [], [], ['ClickHouse: connection refused']);
    expect(screen).toContain('(no ticks yet)');
    expect(screen).toContain('(no bars yet');
    expect(screen).toContain('! ClickHouse: connection refused');
  });

  it('shows the latest quotes first when they come from the cache', () => {
    const screen = renderDashboard(
      new Date('2026-11-29T18:00:00Z'),
      [],
      [],
      [],
      [
        {
          symbol: 'EUR/USD',
          bid: 1.0848,
          ask: 1.085,
          spread: 2.0000000001,
          timestampMs: Date.parse('2026-11-29T17:59:58Z'),
        },
      ],
    ).split('\n');
    expect(screen[2]).toMatch(/^symbol\s+bid\s+ask\s+spread \(pips\)\s+quote time \(UTC\)$/);
    expect(screen).toContain('EUR/USD  1.0848  1.085  2              2026-11-29 17:59:58');
    expect(renderDashboard(new Date(0), [], [], [], [])).toContain('(no quotes in the cache yet)');
    expect(renderDashboard(new Date(0), [], [], [])).not.toContain('quote time');
  });
});
