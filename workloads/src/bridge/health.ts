// Whether a database answers, from the bridge's writes and a periodic probe; feeds /readyz
// and the database_up gauge. Starts "not checked yet" so that readiness waits for a probe.
import type { Gauge } from 'prom-client';
import type { Logger } from '../runtime/logger.js';
import { reasonOf } from '../runtime/failure.js';
import type { Database } from './writers.js';

export class DatabaseHealth {
  private problem: string | undefined = 'not checked yet';

  constructor(
    readonly database: Database,
    private readonly gauge: Gauge<'database'>,
    private readonly log: Logger,
  ) {
    gauge.set({ database }, 0);
  }

  up(): void {
    if (this.problem !== undefined && this.problem !== 'not checked yet') {
      this.log.info({ database: this.database }, 'database reachable again');
    }
    this.problem = undefined;
    this.gauge.set({ database: this.database }, 1);
  }

  down(error: unknown): void {
    const reason = reasonOf(error);
    if (this.problem === undefined)
      this.log.error({ database: this.database, err: reason }, 'database unavailable');
    this.problem = reason;
    this.gauge.set({ database: this.database }, 0);
  }

  /** For /readyz: undefined when up, else why not. */
  notReady(): string | undefined {
    return this.problem === undefined ? undefined : `${this.database}: ${this.problem}`;
  }
}
