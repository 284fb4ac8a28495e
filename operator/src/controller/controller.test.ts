import { describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { createLogger } from '../../../workloads/src/runtime/logger.js';
import { Controller, TerminalError, type Result } from './controller.js';
import { createControllerMetrics, workQueueMetrics } from './metrics.js';
import { ItemExponentialRateLimiter } from './rate-limiter.js';
import { WorkQueue } from './workqueue.js';

const log = createLogger('test', 'silent');

function setup(reconcile: (key: string) => Promise<Result>, workers = 2) {
  const registry = new Registry();
  const metrics = createControllerMetrics(registry);
  // 1 ms base: retries happen quickly, still through the rate limiter.
  const queue = new WorkQueue(new ItemExponentialRateLimiter(1, 50), workQueueMetrics(metrics, 'test'));
  const controller = new Controller('test', queue, reconcile, metrics, log);
  controller.start(workers);
  const value = async (name: string, labels: Record<string, string>) => {
    const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name)!;
    return (
      (metric.values as { labels: Record<string, string>; value: number }[]).find((v) =>
        Object.entries(labels).every(([k, l]) => v.labels[k] === l),
      )?.value ?? 0
    );
  };
  return { queue, controller, value };
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('controller', () => {
  it('retries a failing key with backoff until it succeeds, and counts like controller-runtime', async () => {
    let calls = 0;
    const succeeded = deferred();
    const { queue, controller, value } = setup(async () => {
      calls++;
      if (calls < 3) throw new Error('API server unavailable');
      succeeded.resolve();
      return {};
    });
    queue.add('ns/a');
    await succeeded.promise;
    await controller.stop();
    expect(calls).toBe(3);
    expect(await value('controller_runtime_reconcile_total', { controller: 'test', result: 'error' })).toBe(
      2,
    );
    expect(await value('controller_runtime_reconcile_total', { controller: 'test', result: 'success' })).toBe(
      1,
    );
    expect(await value('controller_runtime_reconcile_errors_total', { controller: 'test' })).toBe(2);
    expect(await value('workqueue_retries_total', { name: 'test' })).toBe(2);
    expect(await value('workqueue_adds_total', { name: 'test' })).toBe(3);
    expect(queue.numRequeues('ns/a')).toBe(0);
  });

  it('does not retry a terminal error', async () => {
    const calls: string[] = [];
    const done = deferred();
    const { queue, controller, value } = setup(async (key) => {
      calls.push(key);
      if (key === 'ns/bad') throw new TerminalError('invalid spec');
      done.resolve();
      return {};
    }, 1);
    queue.add('ns/bad');
    queue.add('ns/good');
    await done.promise;
    await controller.stop();
    expect(calls).toEqual(['ns/bad', 'ns/good']);
    expect(await value('controller_runtime_terminal_reconcile_errors_total', { controller: 'test' })).toBe(1);
    expect(queue.numRequeues('ns/bad')).toBe(0);
  });

  it('requeues after the requested delay', async () => {
    let calls = 0;
    const twice = deferred();
    const { queue, controller, value } = setup(async () => {
      if (++calls === 2) twice.resolve();
      return calls === 1 ? { requeueAfterMs: 5 } : {};
    });
    queue.add('ns/a');
    await twice.promise;
    await controller.stop();
    expect(
      await value('controller_runtime_reconcile_total', { controller: 'test', result: 'requeue_after' }),
    ).toBe(1);
  });

  it('never reconciles one key concurrently, and reconciles once more for changes during a run', async () => {
    let running = 0;
    let maxRunning = 0;
    let calls = 0;
    const firstStarted = deferred();
    const release = deferred();
    const second = deferred();
    const { queue, controller } = setup(async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      calls++;
      if (calls === 1) {
        firstStarted.resolve();
        await release.promise;
      } else {
        second.resolve();
      }
      running--;
      return {};
    }, 4);
    queue.add('ns/a');
    await firstStarted.promise;
    for (let i = 0; i < 10; i++) queue.add('ns/a'); // events while it runs
    release.resolve();
    await second.promise;
    await controller.stop();
    expect(calls).toBe(2);
    expect(maxRunning).toBe(1);
  });

  it('stop waits for the reconcile in progress', async () => {
    const started = deferred();
    let finished = false;
    const { queue, controller } = setup(async () => {
      started.resolve();
      await new Promise((r) => setTimeout(r, 20));
      finished = true;
      return {};
    });
    queue.add('ns/a');
    await started.promise;
    await controller.stop();
    expect(finished).toBe(true);
  });
});
