// A post-commit hook around a batch writer: once a write has committed, the rows it stored
// are handed to `hook` (the latest-quote cache, cache/latest-cache.ts). The hook is
// synchronous and must not wait for anything: it runs before the worker acks the batch, so
// whatever it does (queueing, coalescing) must cost nothing measurable, and a hook that
// throws is logged, never allowed to fail a committed write (the rows would be written again).
import type { Logger } from '../runtime/logger.js';
import { reasonOf } from '../runtime/failure.js';
import type { BatchWriter } from './writers.js';

export function afterCommit<R>(
  writer: BatchWriter<R>,
  hook: ((rows: R[]) => void) | undefined,
  log: Logger,
): BatchWriter<R> {
  if (!hook) return writer;
  return {
    database: writer.database,
    isDataError: (error) => writer.isDataError(error),
    async write(rows) {
      const stored = await writer.write(rows);
      try {
        hook(rows);
      } catch (error) {
        log.error({ err: reasonOf(error) }, 'post-commit hook failed; the write itself committed');
      }
      return stored;
    },
  };
}
