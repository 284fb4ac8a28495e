import { describe, expect, it } from '@jest/globals';
import { makeTick } from '../../../test/support/market-messages.js';
import { tickRow } from './rows.js';
import { ticksAsBinaryCopy } from './writers.js';

describe('tick batch as a binary COPY payload', () => {
  it('holds one row of 11 fields per tick and ends with the trailer', () => {
    const rows = [tickRow(makeTick({ timestamp_ms: 1767607200123 }), 'system')];
    const payload = ticksAsBinaryCopy([...rows, ...rows])!;
    const headerBytes = 19;
    expect(payload.readInt16BE(headerBytes)).toBe(11);
    // time: the first field, microseconds since 2000-01-01 UTC.
    expect(payload.readInt32BE(headerBytes + 2)).toBe(8);
    expect(payload.readBigInt64BE(headerBytes + 6)).toBe((1767607200123n - 946684800000n) * 1000n);
    expect(payload.readInt16BE(payload.length - 2)).toBe(-1);
    const rowBytes = (payload.length - headerBytes - 2) / 2;
    expect(Number.isInteger(rowBytes)).toBe(true);
  });

  it('gives up on a batch holding a value it cannot write exactly (the INSERT path takes it)', () => {
    const good = tickRow(makeTick(), 'system');
    expect(ticksAsBinaryCopy([good])).toBeDefined();
    expect(ticksAsBinaryCopy([good, { ...good, exchange: 2 ** 40 }])).toBeUndefined();
    expect(
      ticksAsBinaryCopy([good, { ...good, ingested_at: '2026-01-05T12:00:00.2+02:00' }]),
    ).toBeUndefined();
  });
});
