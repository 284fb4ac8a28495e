// Bounded waiting for a server: `migrate` runs as a Job that may start before the
// databases accept connections, so it retries with capped backoff up to a deadline, then
// fails with the last error (the Job's own retries take over from there).
import { Backoff, sleep } from '../runtime/backoff.js';
import type { Logger } from '../runtime/logger.js';
import { reasonOf } from '../runtime/failure.js';

export async function retryUntil<T>(
  what: string,
  attempt: () => Promise<T>,
  waitMs: number,
  log: Logger,
): Promise<T> {
  const deadline = Date.now() + waitMs;
  const backoff = new Backoff({ initialMs: 250, maxMs: 5_000, jitter: 0.5 });
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      const delay = backoff.next();
      if (Date.now() + delay > deadline) {
        throw new Error(`${what} not reachable within ${Math.round(waitMs / 1000)} s: ${reasonOf(error)}`, {
          cause: error,
        });
      }
      log.warn({ err: reasonOf(error), retryInMs: delay }, `waiting for ${what}`);
      await sleep(delay);
    }
  }
}
