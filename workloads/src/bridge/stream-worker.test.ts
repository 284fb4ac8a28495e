import { describe, expect, it } from '@jest/globals';
import { Batch } from './batch.js';
import { mostHeld } from './stream-worker.js';

describe('messages a stream worker can hold unacked', () => {
  it('is every lane full plus the batches being written, each at most the largest lane', () => {
    expect(mostHeld({ live: new Batch('ticks', 1000, 1000) }, 2)).toBe(3000);
    expect(
      mostHeld(
        { live: new Batch('bars_live', 1000, 1000), historical: new Batch('bars_historical', 5000, 10_000) },
        2,
      ),
    ).toBe(16_000);
    expect(mostHeld({ live: new Batch('ticks', 100, 1000) }, 1)).toBe(200);
  });
});
