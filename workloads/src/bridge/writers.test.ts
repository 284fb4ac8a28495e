import { describe, expect, it } from '@jest/globals';
import { makeTick } from '../../../test/support/market-messages.js';
import { tickRow } from './rows.js';
import { ticksAsCopyText } from './writers.js';

describe('tick batch as COPY text', () => {
  it('writes one line per row, the columns in the order of the COPY statement, tab-separated', () => {
    const rows = [
      tickRow(makeTick({ timestamp_ms: 1767607200123 }), 'system'),
      tickRow(makeTick({ symbol: 'USD/JPY', bid: 151.2, ask: 151.22, mid: 151.21 }), 'tenant\twith tab'),
    ];
    expect(ticksAsCopyText(rows).split('\n')).toEqual([
      '2026-01-05T10:00:00.123Z\tsystem\tEUR/USD\t1.0848\t1.085\t1.0849\t2\t1767607200123\t48\tpolygon_websocket\t2026-01-05T10:00:00.200Z',
      '2026-01-05T10:00:00.123Z\ttenant\\twith tab\tUSD/JPY\t151.2\t151.22\t151.21\t2\t1767607200123\t48\tpolygon_websocket\t2026-01-05T10:00:00.200Z',
      '',
    ]);
  });

  it('writes nothing for an empty batch', () => {
    expect(ticksAsCopyText([])).toBe('');
  });
});
