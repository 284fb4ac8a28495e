import { describe, expect, it } from '@jest/globals';
import { eventTypeLabel } from './metrics.js';

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
