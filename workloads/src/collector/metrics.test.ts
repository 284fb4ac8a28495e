import { describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { createCollectorMetrics, eventTypeLabel } from './metrics.js';

describe('unknown event type label', () => {
  it('keeps known-looking types and bounds what a hostile feed can add', () => {
    const seen = new Set<string>();
    expect(eventTypeLabel('CA', seen)).toBe('CA');
    expect(eventTypeLabel('CA', seen)).toBe('CA');
    expect(eventTypeLabel('weird ev\n', seen)).toBe('other');
    expect(eventTypeLabel('x'.repeat(17), seen)).toBe('other');
    for (let i = 0; i < 30; i++) eventTypeLabel(`T${i}`, seen, 5);
    expect(seen.size).toBe(5);
    expect(eventTypeLabel('NEW', seen, 5)).toBe('other');
    expect(eventTypeLabel('CA', seen, 5)).toBe('CA');
  });
});

describe('market_open gauge', () => {
  it('follows the calendar source at each scrape', async () => {
    const registry = new Registry();
    let open = false;
    createCollectorMetrics(registry, {
      symbolStats: () => [],
      bufferDepth: () => 0,
      silent: () => false,
      connected: () => true,
      marketOpen: () => open,
      published: () => ({ confirmed: 0, duplicates: 0 }),
    });
    expect(await registry.getSingleMetricAsString('market_pipeline_collector_market_open')).toMatch(
      /^market_pipeline_collector_market_open 0$/m,
    );
    open = true;
    expect(await registry.getSingleMetricAsString('market_pipeline_collector_market_open')).toMatch(
      /^market_pipeline_collector_market_open 1$/m,
    );
  });
});
