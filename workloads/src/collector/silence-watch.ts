// Silent-feed detection (seed lesson 1: a wrong subscription gave zero quotes for 12 hours
// while every health check stayed green). A subscribed symbol that sends nothing for
// longer than the threshold while the forex market is open is reported, once per silence,
// and reported again when it recovers. Outside market hours silence is expected.

export interface SilenceChange {
  symbol: string;
  /** Silent now (true) or heard from again (false). */
  silent: boolean;
  /** How long it had been silent at the check. */
  silentForMs: number;
}

export class SilenceWatch {
  private readonly flagged = new Set<string>();

  constructor(
    private readonly symbols: readonly string[],
    private readonly staleAfterMs: number,
    private readonly isMarketOpen: (ms: number) => boolean,
    /** Counting starts here for a symbol never heard from. */
    private readonly startedAtMs: number,
  ) {}

  isSilent(symbol: string): boolean {
    return this.flagged.has(symbol);
  }

  /** `lastHeardMs`: wall-clock time of the symbol's last quote, undefined if none yet. */
  check(nowMs: number, lastHeardMs: (symbol: string) => number | undefined): SilenceChange[] {
    const open = this.isMarketOpen(nowMs);
    const changes: SilenceChange[] = [];
    for (const symbol of this.symbols) {
      const silentForMs = nowMs - (lastHeardMs(symbol) ?? this.startedAtMs);
      const silent = open && silentForMs > this.staleAfterMs;
      if (silent !== this.flagged.has(symbol)) {
        if (silent) this.flagged.add(symbol);
        else this.flagged.delete(symbol);
        changes.push({ symbol, silent, silentForMs });
      }
    }
    return changes;
  }
}
