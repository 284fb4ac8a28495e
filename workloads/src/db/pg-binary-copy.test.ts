import { describe, expect, it } from '@jest/globals';
import { BinaryCopyBuilder, exactIsoMs, NotRepresentable } from './pg-binary-copy.js';

/** Splits a payload back into its rows of raw fields, checking the framing on the way. */
function fieldsOf(payload: Buffer): Buffer[][] {
  expect(payload.subarray(0, 11).toString('latin1')).toBe('PGCOPY\n\xff\r\n\0');
  expect(payload.readInt32BE(11)).toBe(0); // flags
  expect(payload.readInt32BE(15)).toBe(0); // header extension length
  let pos = 19;
  const rows: Buffer[][] = [];
  for (;;) {
    const count = payload.readInt16BE(pos);
    pos += 2;
    if (count === -1) break;
    const row: Buffer[] = [];
    for (let i = 0; i < count; i++) {
      const length = payload.readInt32BE(pos);
      row.push(payload.subarray(pos + 4, pos + 4 + length));
      pos += 4 + length;
    }
    rows.push(row);
  }
  expect(pos).toBe(payload.length);
  return rows;
}

describe('binary COPY payload', () => {
  it('frames rows and writes each type in its binary form, big-endian', () => {
    const payload = new BinaryCopyBuilder(16)
      .row(5)
      .float8(1.0848)
      .int4(-48)
      .int8(1767607200123)
      .text('EUR/USD')
      .timestamptzMs(Date.UTC(2000, 0, 1, 0, 0, 1, 5))
      .row(2)
      .text('Zürich')
      .timestamptzMs(Date.UTC(1999, 11, 31, 23, 59, 59, 999))
      .finish();
    const [first, second] = fieldsOf(payload);
    expect(first![0]!.readDoubleBE(0)).toBe(1.0848);
    expect(first![1]!.readInt32BE(0)).toBe(-48);
    expect(first![2]!.readBigInt64BE(0)).toBe(1767607200123n);
    expect(first![3]!.toString('utf8')).toBe('EUR/USD');
    // timestamptz: microseconds since 2000-01-01 UTC, negative before it.
    expect(first![4]!.readBigInt64BE(0)).toBe(1_005_000n);
    expect(second![0]!.toString('utf8')).toBe('Zürich');
    expect(second![1]!.readBigInt64BE(0)).toBe(-1000n);
  });

  it('grows past its first buffer', () => {
    const builder = new BinaryCopyBuilder(64);
    for (let i = 0; i < 1000; i++) builder.row(1).int8(i * 1_000_003);
    const rows = fieldsOf(builder.finish());
    expect(rows).toHaveLength(1000);
    expect(rows[999]![0]!.readBigInt64BE(0)).toBe(999n * 1_000_003n);
  });

  it('refuses values the format would change instead of writing them differently', () => {
    const b = new BinaryCopyBuilder();
    expect(() => b.int4(2 ** 31)).toThrow(NotRepresentable);
    expect(() => b.int4(1.5)).toThrow(NotRepresentable);
    expect(() => b.int8(2 ** 53)).toThrow(NotRepresentable);
    expect(() => b.float8(Number.NaN)).toThrow(NotRepresentable);
    expect(() => b.float8(Number.NEGATIVE_INFINITY)).toThrow(NotRepresentable);
    expect(() => b.text('a\0b')).toThrow(NotRepresentable);
  });
});

describe('exact ISO-8601 milliseconds', () => {
  it('reads the form Date.toISOString() writes', () => {
    expect(exactIsoMs('2026-01-05T10:00:00.200Z')).toBe(Date.UTC(2026, 0, 5, 10, 0, 0, 200));
    expect(exactIsoMs('2024-02-29T23:59:59.999Z')).toBe(Date.UTC(2024, 1, 29, 23, 59, 59, 999));
  });

  it('refuses other spellings and days that do not exist, which Date.parse would roll over', () => {
    for (const text of [
      '2026-02-30T00:00:00.000Z',
      '2026-01-05T10:00:00.2Z',
      '2026-01-05T10:00:00.200123Z',
      '2026-01-05T12:00:00.000+02:00',
      '2026-01-05 10:00:00.000Z',
    ]) {
      expect(() => exactIsoMs(text)).toThrow(NotRepresentable);
    }
  });
});
