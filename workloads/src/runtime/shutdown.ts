// Graceful shutdown: on SIGTERM/SIGINT run the registered steps in reverse order of
// registration (stop intake first, flush and ack in-flight work, close connections last),
// bounded by a deadline so that a stuck step cannot keep the pod from terminating.
import type { Logger } from './logger.js';

type Step = { name: string; run: () => Promise<void> | void };

export class Shutdown {
  private readonly steps: Step[] = [];
  private started: Promise<void> | undefined;
  readonly signal: AbortSignal;
  private readonly controller = new AbortController();

  constructor(
    private readonly log: Logger,
    private readonly deadlineMs = 25_000,
  ) {
    this.signal = this.controller.signal;
  }

  /** Registers a step; steps run last-registered first. */
  add(name: string, run: Step['run']): void {
    this.steps.push({ name, run });
  }

  /** Installs the signal handlers; the process exits when shutdown completes. */
  installSignalHandlers(): void {
    for (const sig of ['SIGTERM', 'SIGINT'] as const) {
      process.once(sig, () => {
        this.log.info({ signal: sig }, 'shutting down');
        void this.run().then(() => process.exit(process.exitCode ?? 0));
      });
    }
  }

  get shuttingDown(): boolean {
    return this.controller.signal.aborted;
  }

  run(): Promise<void> {
    this.started ??= this.runSteps();
    return this.started;
  }

  private async runSteps(): Promise<void> {
    this.controller.abort();
    const deadline = setTimeout(() => {
      this.log.error({ deadlineMs: this.deadlineMs }, 'shutdown deadline passed; exiting');
      process.exit(1);
    }, this.deadlineMs);
    deadline.unref();
    for (const step of [...this.steps].reverse()) {
      try {
        await step.run();
      } catch (error) {
        this.log.error({ err: error, step: step.name }, 'shutdown step failed');
        process.exitCode = 1;
      }
    }
    clearTimeout(deadline);
  }
}
