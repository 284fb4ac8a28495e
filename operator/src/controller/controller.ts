// The reconcile loop (controller-runtime's reconcileHandler): N workers take keys from the
// work queue and call reconcile(key). Outcome → what happens to the key:
// - success                → forget (backoff reset); requeueAfter → added again after it;
// - TerminalError          → forget, counted, not retried (retrying cannot help);
// - any other error        → added again rate-limited (exponential per key + token bucket).
// A key is never reconciled by two workers at once (the queue guarantees it).
import type { Logger } from '../../../workloads/src/runtime/logger.js';
import type { ControllerMetrics } from './metrics.js';
import type { WorkQueue } from './workqueue.js';

export interface Result {
  /** Reconcile again after this many ms (time-based work: waiting for a Secret, a rollout). */
  requeueAfterMs?: number;
}

/** An error retrying cannot fix (e.g. an invalid spec); the next change of the object will. */
export class TerminalError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TerminalError';
  }
}

export type Reconcile = (key: string) => Promise<Result>;

export class Controller {
  private workers: Promise<void>[] = [];

  constructor(
    readonly name: string,
    readonly queue: WorkQueue,
    private readonly reconcile: Reconcile,
    private readonly metrics: ControllerMetrics,
    private readonly log: Logger,
  ) {}

  start(workers: number): void {
    this.metrics.maxConcurrentReconciles.set({ controller: this.name }, workers);
    for (let i = 0; i < workers; i++) this.workers.push(this.work());
  }

  /** Stops handing out keys and waits for the reconciles in progress to finish. */
  async stop(): Promise<void> {
    this.queue.shutDown();
    await Promise.all(this.workers);
    this.workers = [];
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        await this.handle(key);
      } finally {
        this.queue.done(key);
      }
    }
  }

  private async handle(key: string): Promise<void> {
    const labels = { controller: this.name };
    this.metrics.activeWorkers.inc(labels);
    const stopTimer = this.metrics.reconcileTime.startTimer(labels);
    try {
      const result = await this.reconcile(key);
      this.queue.forget(key);
      if (result.requeueAfterMs !== undefined && result.requeueAfterMs > 0) {
        this.queue.addAfter(key, result.requeueAfterMs);
        this.metrics.reconcileTotal.inc({ ...labels, result: 'requeue_after' });
      } else {
        this.metrics.reconcileTotal.inc({ ...labels, result: 'success' });
      }
    } catch (error) {
      this.metrics.reconcileErrors.inc(labels);
      this.metrics.reconcileTotal.inc({ ...labels, result: 'error' });
      if (error instanceof TerminalError) {
        this.metrics.terminalReconcileErrors.inc(labels);
        this.queue.forget(key);
        this.log.error({ key, err: error }, 'reconcile failed permanently; waiting for a change');
      } else {
        this.queue.addRateLimited(key);
        this.log.warn(
          { key, err: error, retries: this.queue.numRequeues(key) },
          'reconcile failed; retrying with backoff',
        );
      }
    } finally {
      stopTimer();
      this.metrics.activeWorkers.dec(labels);
    }
  }
}
