// Logging for things that can repeat at feed rate (malformed frames, a full buffer): the
// first occurrence of a kind is logged at once, then at most one line per interval that
// carries how many were suppressed. The counters in /metrics stay exact; the log stays readable.
import type { Logger } from './logger.js';

type Level = 'warn' | 'error' | 'info';

export class LogThrottle {
  private readonly state = new Map<string, { lastMs: number; suppressed: number }>();

  constructor(
    private readonly log: Logger,
    private readonly intervalMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Logs unless a line of the same `kind` was logged less than an interval ago. */
  write(level: Level, kind: string, fields: Record<string, unknown>, message: string): void {
    const now = this.now();
    const s = this.state.get(kind);
    if (s && now - s.lastMs < this.intervalMs) {
      s.suppressed++;
      return;
    }
    this.log[level]({ ...fields, kind, suppressedSinceLast: s?.suppressed ?? 0 }, message);
    this.state.set(kind, { lastMs: now, suppressed: 0 });
  }
}
