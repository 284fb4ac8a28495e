import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { LogThrottle } from './log-throttle.js';

describe('LogThrottle', () => {
  it('logs the first of a kind, then one line per interval with the number suppressed', () => {
    const lines: Record<string, unknown>[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    let now = 0;
    const throttle = new LogThrottle(log, 1000, () => now);
    throttle.write('warn', 'a', { n: 1 }, 'first');
    throttle.write('warn', 'a', { n: 2 }, 'suppressed');
    throttle.write('warn', 'a', { n: 3 }, 'suppressed');
    throttle.write('error', 'b', { n: 4 }, 'another kind');
    now = 1000;
    throttle.write('warn', 'a', { n: 5 }, 'after the interval');
    expect(lines.map((l) => [l.msg, l.kind, l.suppressedSinceLast, l.n])).toEqual([
      ['first', 'a', 0, 1],
      ['another kind', 'b', 0, 4],
      ['after the interval', 'a', 2, 5],
    ]);
  });
});
