// Leader election on a coordination.k8s.io/v1 Lease, after client-go's leaderelection
// package (what controller-runtime uses), with its default timings: lease 15 s, renew
// deadline 10 s, retry every 2 s.
// - A candidate takes the Lease when it is free (no holder: released) or when its record has
//   not changed for a whole lease duration *as timed by this process's own clock* (the other
//   side's renewTime is not compared with our clock, so clock skew does not matter).
// - Every write is an optimistic update (resourceVersion), so two candidates can never both
//   succeed in taking it.
// - The leader renews every retry period; if it cannot renew for renewDeadline (shorter than
//   the lease), it steps down before anyone else can take over, so two never both lead.
// - release() on shutdown empties the holder, so a standby takes over at its next retry
//   instead of waiting out the lease.
import type { Logger } from '../../../workloads/src/runtime/logger.js';
import { sleep } from '../../../workloads/src/runtime/backoff.js';
import { microTime } from '../kube/time.js';

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface LeaseObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name?: string; namespace?: string; resourceVersion?: string; [k: string]: unknown };
  spec?: LeaseSpec;
}

/** Storage of the Lease; create/update reject a concurrent change (409) by throwing ConflictError. */
export interface LeaseStore {
  get(): Promise<LeaseObject | undefined>;
  create(spec: LeaseSpec): Promise<LeaseObject>;
  update(current: LeaseObject, spec: LeaseSpec): Promise<LeaseObject>;
}

export interface ElectorOptions {
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  now?: () => number;
  /** For tests: the wait between attempts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export class LeaderElector {
  private observedRecord = '';
  private observedTime = 0;
  private current: LeaseObject | undefined;
  private leading = false;
  private readonly now: () => number;
  private readonly wait: (ms: number, signal?: AbortSignal) => Promise<void>;

  constructor(
    private readonly store: LeaseStore,
    private readonly options: ElectorOptions,
    private readonly log: Logger,
  ) {
    if (options.renewDeadlineMs >= options.leaseDurationMs) {
      throw new Error('leader election: the renew deadline must be shorter than the lease duration');
    }
    this.now = options.now ?? Date.now;
    this.wait = options.sleep ?? sleep;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /**
   * Campaigns until leading (or `signal` aborts), calls onStartedLeading, then renews until
   * the lease is lost or `signal` aborts. Resolves with why it stopped leading.
   */
  async run(signal: AbortSignal, onStartedLeading: () => void): Promise<'lost' | 'stopped'> {
    while (!signal.aborted && !(await this.tryAcquireOrRenew())) {
      await this.wait(this.jittered(), signal);
    }
    if (signal.aborted) return 'stopped';
    this.leading = true;
    this.log.info({ identity: this.options.identity }, 'became leader');
    onStartedLeading();
    for (;;) {
      await this.wait(this.options.retryPeriodMs, signal);
      if (signal.aborted) return 'stopped';
      if (!(await this.renew(signal))) {
        if (signal.aborted) return 'stopped';
        this.leading = false;
        this.log.error({ identity: this.options.identity }, 'lost the leader lease');
        return 'lost';
      }
    }
  }

  /** Retries renewing every retry period until it succeeds or the renew deadline passes. */
  private async renew(signal: AbortSignal): Promise<boolean> {
    const deadline = this.now() + this.options.renewDeadlineMs;
    for (;;) {
      if (await this.tryAcquireOrRenew()) return true;
      if (signal.aborted || this.now() + this.options.retryPeriodMs > deadline) return false;
      await this.wait(this.options.retryPeriodMs, signal);
    }
  }

  /** Gives the lease up so a standby need not wait for it to expire. */
  async release(): Promise<void> {
    if (!this.leading || !this.current) return;
    this.leading = false;
    const previous = this.current.spec ?? {};
    if (previous.holderIdentity !== this.options.identity) return;
    try {
      const t = microTime(this.now());
      await this.store.update(this.current, {
        holderIdentity: '',
        leaseDurationSeconds: 1,
        acquireTime: t,
        renewTime: t,
        leaseTransitions: previous.leaseTransitions ?? 0,
      });
      this.log.info({ identity: this.options.identity }, 'released the leader lease');
    } catch (error) {
      this.log.warn({ err: error }, 'could not release the leader lease; it expires on its own');
    }
  }

  /** One attempt; true when this process holds the lease afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const { identity, leaseDurationMs } = this.options;
    const nowMs = this.now();
    const fresh: LeaseSpec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.round(leaseDurationMs / 1000),
      acquireTime: microTime(nowMs),
      renewTime: microTime(nowMs),
      leaseTransitions: 0,
    };
    try {
      const lease = await this.store.get();
      if (!lease) {
        this.remember(await this.store.create(fresh), nowMs);
        return true;
      }
      const record = lease.spec ?? {};
      const raw = JSON.stringify(record);
      if (raw !== this.observedRecord) {
        this.observedRecord = raw;
        this.observedTime = nowMs;
      }
      const holder = record.holderIdentity ?? '';
      const heldByOther =
        holder !== '' &&
        holder !== identity &&
        this.observedTime + (record.leaseDurationSeconds ?? 0) * 1000 > nowMs;
      if (heldByOther) {
        this.current = lease;
        return false;
      }
      const ours = holder === identity;
      const updated = await this.store.update(lease, {
        ...fresh,
        acquireTime: ours && record.acquireTime ? record.acquireTime : fresh.acquireTime,
        leaseTransitions: (record.leaseTransitions ?? 0) + (ours ? 0 : 1),
      });
      this.remember(updated, nowMs);
      return true;
    } catch (error) {
      // A conflict means someone else wrote first: not leading this round. Anything else
      // (API server unreachable) is the same for the decision, and worth a log line.
      if (!(error instanceof Error && error.name === 'ConflictError')) {
        this.log.warn({ err: error }, 'leader election attempt failed');
      }
      return false;
    }
  }

  private remember(lease: LeaseObject, nowMs: number): void {
    this.current = lease;
    this.observedRecord = JSON.stringify(lease.spec ?? {});
    this.observedTime = nowMs;
  }

  /** client-go's wait.Jitter(retryPeriod, 1.2): spreads candidates out. */
  private jittered(): number {
    return this.options.retryPeriodMs * (1 + Math.random() * 1.2);
  }
}

export class ConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}
