// Failures injected on purpose (test hooks), so that clients' retry logic can be tested
// against the real protocol: the next N REST requests fail with a 5xx status.

export class FaultInjector {
  private restFailures: { remaining: number; status: number } = { remaining: 0, status: 503 };

  /** The next `count` REST requests answer `status` (500-599). */
  failNextRestRequests(count: number, status = 503): void {
    this.restFailures = { remaining: count, status };
  }

  get pendingRestFailures(): number {
    return this.restFailures.remaining;
  }

  /** Status to fail the current request with, if a failure is pending (and consumes it). */
  takeRestFailure(): number | undefined {
    if (this.restFailures.remaining <= 0) return undefined;
    this.restFailures.remaining--;
    return this.restFailures.status;
  }
}
