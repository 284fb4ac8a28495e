import { describe, expect, it } from '@jest/globals';
import { TerminalProgress } from './progress.js';

const ESC = String.fromCharCode(27);
const CURSOR_UP = new RegExp(`(${ESC}\\[\\d+A\r(?:${ESC}\\[J)?)`);
const CURSOR_UP_N = new RegExp(`^${ESC}\\[(\\d+)A\r(${ESC}\\[J)?$`);
const STYLE = new RegExp(`${ESC}\\[[0-9;]*[mK]`, 'g');

// Strips ANSI colour and line-clearing escapes, and replays cursor-up moves, to get the
// screen a terminal would show.
function screen(writes: string[]): string[] {
  const lines: string[] = [];
  let row = 0;
  for (const write of writes) {
    const parts = write.split(CURSOR_UP);
    for (const part of parts) {
      const up = CURSOR_UP_N.exec(part);
      if (up) {
        row -= Number(up[1]);
        if (up[2]) lines.length = row; // clear to the end of the screen
        continue;
      }
      for (const line of part.split('\n').slice(0, -1)) {
        lines[row++] = line.replace(STYLE, '');
      }
    }
  }
  return lines;
}

describe('terminal progress', () => {
  it('draws one bar per symbol and timeframe and redraws it in place', () => {
    const writes: string[] = [];
    const progress = new TerminalProgress({ write: (s: string) => writes.push(s) } as never);
    progress.planned('gaps', 'EUR/USD', '5m', 4);
    progress.planned('gaps', 'EUR/USD', '1h', 1);
    progress.planned('gaps', 'EUR/USD', '1d', 0);
    const range = {
      phase: 'gaps' as const,
      symbol: 'EUR/USD',
      fromMs: 0,
      toMs: 0,
      pages: 1,
      barsPublished: 0,
    };
    progress.rangeDone({ ...range, timeframe: '5m', barsReceived: 1500, barsEmpty: 0 });
    progress.rangeDone({ ...range, timeframe: '1h', barsReceived: 20, barsEmpty: 2 });
    progress.finish();
    expect(screen(writes)).toEqual([
      'EUR/USD 5m  [######..................]    1/4 ranges  1,500 bars',
      'EUR/USD 1h  [########################]    1/1 ranges  20 bars',
    ]);
  });

  it('prints log lines above the bars without garbling them', () => {
    const writes: string[] = [];
    const progress = new TerminalProgress({ write: (s: string) => writes.push(s) } as never);
    progress.printAbove('{"msg":"backfill starting"}\n');
    progress.planned('repair', 'XAU/USD', '5m', 2);
    progress.printAbove('{"msg":"Polygon rate limit (429): backing off"}');
    progress.rangeDone({
      phase: 'repair',
      symbol: 'XAU/USD',
      timeframe: '5m',
      fromMs: 0,
      toMs: 0,
      pages: 1,
      barsReceived: 4,
      barsPublished: 4,
      barsEmpty: 0,
    });
    expect(screen(writes)).toEqual([
      '{"msg":"backfill starting"}',
      '{"msg":"Polygon rate limit (429): backing off"}',
      'repair XAU/USD 5m  [############............]    1/2 ranges  4 bars',
    ]);
  });
});
