import { describe, expect, it } from '@jest/globals';
import { PendingLog } from './pending-log.js';

function takeAll<T>(log: PendingLog<T>): T[] {
  const out: T[] = [];
  for (let e = log.takeNext(); e; e = log.takeNext()) out.push(e.item);
  return out;
}

describe('PendingLog (the bookkeeping behind the tick buffer)', () => {
  it('refuses what does not fit, counting in-flight entries against the bound', () => {
    const log = new PendingLog<number>(3);
    expect([1, 2, 3].map((n) => log.push(n))).toEqual([true, true, true]);
    expect(log.push(4)).toBe(false);
    expect(log.size).toBe(3);
    // Sending does not free room: an entry is held until confirmed.
    const first = log.takeNext()!;
    expect(log.push(4)).toBe(false);
    log.confirm(first);
    expect(log.size).toBe(2);
    expect(log.push(4)).toBe(true);
    expect(log.full).toBe(true);
  });

  it('hands entries out in arrival order and frees room only for a confirmed prefix', () => {
    const log = new PendingLog<string>(4);
    for (const s of ['a', 'b', 'c']) log.push(s);
    const [a, b, c] = [log.takeNext()!, log.takeNext()!, log.takeNext()!];
    expect([a.item, b.item, c.item]).toEqual(['a', 'b', 'c']);
    expect(log.takeNext()).toBeUndefined();
    log.confirm(c);
    log.confirm(b);
    expect(log.size).toBe(3); // 'a' still unconfirmed, so b and c stay behind it
    log.confirm(a);
    expect(log.size).toBe(0);
  });

  it('re-sends a failed entry before anything after it, skipping what is confirmed', () => {
    const log = new PendingLog<number>(8);
    for (let i = 0; i < 6; i++) log.push(i);
    const sent = [0, 1, 2, 3].map(() => log.takeNext()!);
    log.confirm(sent[0]!);
    log.confirm(sent[2]!);
    log.retry(sent[3]!);
    log.retry(sent[1]!);
    expect(log.hasPending).toBe(true);
    expect(takeAll(log)).toEqual([1, 3, 4, 5]);
    expect(log.unconfirmed()).toEqual([1, 3, 4, 5]);
  });

  it('ignores a retry of an entry that was confirmed meanwhile (a late confirmation)', () => {
    const log = new PendingLog<number>(2);
    log.push(1);
    const e = log.takeNext()!;
    log.confirm(e);
    log.retry(e);
    expect(log.size).toBe(0);
    expect(log.takeNext()).toBeUndefined();
  });

  it('keeps order and bound across many wrap-arounds of the ring', () => {
    const log = new PendingLog<number>(5);
    let next = 0;
    const delivered: number[] = [];
    let refused = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 4; i++) if (log.push(next++) === false) refused++;
      const batch = [log.takeNext(), log.takeNext(), log.takeNext()].filter((e) => e !== undefined);
      // Every third round the first send of the batch fails and is retried next round.
      if (round % 3 === 0 && batch[0]) log.retry(batch.shift()!);
      for (const e of batch) {
        log.confirm(e);
        delivered.push(e.item);
      }
      expect(log.size).toBeLessThanOrEqual(5);
    }
    for (let e = log.takeNext(); e; e = log.takeNext()) {
      log.confirm(e);
      delivered.push(e.item);
    }
    // Everything accepted was delivered exactly once; what was refused was counted.
    expect(new Set(delivered).size).toBe(delivered.length);
    expect(delivered.length + refused).toBe(next);
    expect(log.size).toBe(0);
  });

  it('rejects a capacity below one', () => {
    expect(() => new PendingLog(0)).toThrow('capacity');
  });
});
