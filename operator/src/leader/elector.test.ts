import { describe, expect, it } from '@jest/globals';
import { createLogger } from '../../../workloads/src/runtime/logger.js';
import {
  ConflictError,
  LeaderElector,
  type LeaseObject,
  type LeaseSpec,
  type LeaseStore,
} from './elector.js';
import { microTime } from '../kube/time.js';

const log = createLogger('test', 'silent');

/** An in-memory Lease with the API server's optimistic concurrency. */
class MemoryLease implements LeaseStore {
  lease: LeaseObject | undefined;
  failing = false;
  private rv = 0;

  async get() {
    if (this.failing) throw new Error('connection refused');
    return this.lease && structuredClone(this.lease);
  }
  async create(spec: LeaseSpec) {
    if (this.failing) throw new Error('connection refused');
    if (this.lease) throw new ConflictError('exists');
    this.lease = { metadata: { resourceVersion: String(++this.rv) }, spec };
    return structuredClone(this.lease);
  }
  async update(current: LeaseObject, spec: LeaseSpec) {
    if (this.failing) throw new Error('connection refused');
    if (current.metadata.resourceVersion !== this.lease?.metadata.resourceVersion)
      throw new ConflictError('changed');
    this.lease = { metadata: { resourceVersion: String(++this.rv) }, spec };
    return structuredClone(this.lease);
  }
}

const timings = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

function candidate(store: LeaseStore, identity: string, clock: { t: number }) {
  return new LeaderElector(
    store,
    {
      identity,
      ...timings,
      now: () => clock.t,
      // Fake time: waiting advances the shared clock instead of sleeping (and yields, so
      // that a leader renewing in the background lets the test go on).
      sleep: async (ms, signal) => {
        await new Promise((r) => setImmediate(r));
        if (!signal?.aborted) clock.t += ms;
      },
    },
    log,
  );
}

describe('leader election on a Lease', () => {
  it('lets exactly one candidate lead while the leader renews', async () => {
    const store = new MemoryLease();
    const clock = { t: 0 };
    const a = candidate(store, 'a', clock);
    const b = candidate(store, 'b', clock);
    expect(await a.tryAcquireOrRenew()).toBe(true);
    for (let i = 0; i < 20; i++) {
      clock.t += 2_000;
      expect(await a.tryAcquireOrRenew()).toBe(true);
      expect(await b.tryAcquireOrRenew()).toBe(false);
    }
    expect(store.lease!.spec).toMatchObject({
      holderIdentity: 'a',
      leaseDurationSeconds: 15,
      leaseTransitions: 0,
    });
    expect(store.lease!.spec!.acquireTime).toBe(microTime(0));
    expect(store.lease!.spec!.renewTime).toBe(microTime(40_000));
  });

  it('takes over a lease nobody renews only after a full lease duration of its own observation', async () => {
    const store = new MemoryLease();
    const clock = { t: 0 };
    await candidate(store, 'a', clock).tryAcquireOrRenew(); // a crashes right after
    clock.t = 100_000; // the record may be old: b's own clock starts when b first sees it
    const b = candidate(store, 'b', clock);
    expect(await b.tryAcquireOrRenew()).toBe(false);
    clock.t += 14_999;
    expect(await b.tryAcquireOrRenew()).toBe(false);
    clock.t += 2;
    expect(await b.tryAcquireOrRenew()).toBe(true);
    expect(store.lease!.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
  });

  it('hands over at once when the leader releases the lease', async () => {
    const store = new MemoryLease();
    const clock = { t: 0 };
    const a = candidate(store, 'a', clock);
    const b = candidate(store, 'b', clock);
    const abort = new AbortController();
    let started = false;
    const running = a.run(abort.signal, () => (started = true));
    await new Promise((r) => setImmediate(r));
    expect(started).toBe(true);
    expect(await b.tryAcquireOrRenew()).toBe(false);
    abort.abort();
    expect(await running).toBe('stopped');
    await a.release();
    expect(store.lease!.spec).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
    expect(await b.tryAcquireOrRenew()).toBe(true);
    expect(a.isLeader).toBe(false);
  });

  it('steps down when it cannot renew within the renew deadline, before the lease expires', async () => {
    const store = new MemoryLease();
    const clock = { t: 0 };
    const a = candidate(store, 'a', clock);
    const abort = new AbortController();
    const outcome = a.run(abort.signal, () => {
      // Leading: now the API server becomes unreachable.
      store.failing = true;
    });
    expect(await outcome).toBe('lost');
    expect(a.isLeader).toBe(false);
    // Last successful renew at 0; it gave up within the renew deadline (+ one retry period).
    expect(clock.t).toBeLessThanOrEqual(timings.retryPeriodMs + timings.renewDeadlineMs);
    expect(clock.t).toBeLessThan(timings.leaseDurationMs);
  });

  it('lets only one of two candidates that race for a free lease win', async () => {
    const store = new MemoryLease();
    const clock = { t: 0 };
    await store.create({ holderIdentity: '', leaseDurationSeconds: 1 });
    const results = await Promise.all([
      candidate(store, 'a', clock).tryAcquireOrRenew(),
      candidate(store, 'b', clock).tryAcquireOrRenew(),
    ]);
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('writes MicroTime with six fractional digits, as the API server requires', () => {
    expect(microTime(Date.UTC(2024, 0, 2, 3, 4, 5, 678))).toBe('2024-01-02T03:04:05.678000Z');
  });

  it('refuses a renew deadline that is not shorter than the lease', () => {
    expect(
      () =>
        new LeaderElector(
          new MemoryLease(),
          { identity: 'x', leaseDurationMs: 10, renewDeadlineMs: 10, retryPeriodMs: 1 },
          log,
        ),
    ).toThrow('renew deadline');
  });
});
