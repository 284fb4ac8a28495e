// Progress of a run. On a terminal: one bar per symbol and timeframe (ranges done of ranges
// planned, bars received), redrawn in place with plain ANSI escapes. Otherwise (a pod's
// log): one structured JSON line per range.
import type { Logger } from '../runtime/logger.js';

export type Phase = 'repair' | 'gaps';

export interface RangeReport {
  phase: Phase;
  symbol: string;
  timeframe: string;
  fromMs: number;
  /** Last bar start asked for (inclusive). */
  toMs: number;
  pages: number;
  barsReceived: number;
  barsPublished: number;
  /** Missing bars Polygon had no bar for (recorded in the ledger). */
  barsEmpty: number;
}

export interface Progress {
  planned(phase: Phase, symbol: string, timeframe: string, ranges: number): void;
  rangeDone(report: RangeReport): void;
  finish(): void;
}

interface Line {
  label: string;
  planned: number;
  done: number;
  bars: number;
}

const BAR_WIDTH = 24;

export class TerminalProgress implements Progress {
  private readonly lines = new Map<string, Line>();
  private drawn = 0;

  constructor(private readonly out: NodeJS.WriteStream = process.stdout) {}

  planned(phase: Phase, symbol: string, timeframe: string, ranges: number): void {
    if (ranges === 0) return;
    const label = `${phase === 'repair' ? 'repair ' : ''}${symbol} ${timeframe}`;
    this.lines.set(label, { label, planned: ranges, done: 0, bars: 0 });
    this.draw();
  }

  rangeDone(r: RangeReport): void {
    const line = this.lines.get(`${r.phase === 'repair' ? 'repair ' : ''}${r.symbol} ${r.timeframe}`);
    if (!line) return;
    line.done++;
    line.bars += r.barsReceived;
    this.draw();
  }

  /** Draws the final state and leaves it in place: what is printed next goes below it. */
  finish(): void {
    if (this.lines.size > 0) this.draw();
    this.drawn = 0;
    this.lines.clear();
  }

  /** Writes a log line above the bars (the bars move down), so that logs never garble them. */
  printAbove(text: string): void {
    const back = this.drawn > 0 ? `\x1b[${this.drawn}A\r\x1b[J` : '';
    this.out.write(`${back}${text}${text.endsWith('\n') ? '' : '\n'}`);
    this.drawn = 0;
    if (this.lines.size > 0) this.draw();
  }

  private draw(): void {
    const width = Math.max(0, ...[...this.lines.keys()].map((l) => l.length));
    // Back to the first line drawn last time, then rewrite every line.
    let text = this.drawn > 0 ? `\x1b[${this.drawn}A\r` : '';
    for (const line of this.lines.values()) {
      const filled = line.planned === 0 ? BAR_WIDTH : Math.round((line.done / line.planned) * BAR_WIDTH);
      const bar = `${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}`;
      const colour = line.done === line.planned ? '\x1b[32m' : '\x1b[33m';
      text +=
        `\x1b[2K${line.label.padEnd(width)}  ${colour}[${bar}]\x1b[0m ` +
        `${String(line.done).padStart(4)}/${line.planned} ranges  ${line.bars.toLocaleString('en-US')} bars\n`;
    }
    this.drawn = this.lines.size;
    this.out.write(text);
  }
}

export class LogProgress implements Progress {
  private readonly counts = new Map<string, { planned: number; done: number }>();

  constructor(private readonly log: Logger) {}

  planned(phase: Phase, symbol: string, timeframe: string, ranges: number): void {
    this.counts.set(`${phase} ${symbol} ${timeframe}`, { planned: ranges, done: 0 });
  }

  rangeDone(r: RangeReport): void {
    const count = this.counts.get(`${r.phase} ${r.symbol} ${r.timeframe}`);
    if (count) count.done++;
    this.log.info(
      {
        ...r,
        from: new Date(r.fromMs).toISOString(),
        to: new Date(r.toMs).toISOString(),
        fromMs: undefined,
        toMs: undefined,
        range: count ? `${count.done}/${count.planned}` : undefined,
      },
      'range done',
    );
  }

  finish(): void {}
}
