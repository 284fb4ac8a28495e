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
});
