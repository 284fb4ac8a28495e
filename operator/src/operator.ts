// Wiring of the controller: informers on MarketPipelines and on the objects they own, the
// work queue they feed, the workers that reconcile, and the periodic resync. Started only
// while this process is the leader (see run.ts).
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../../workloads/src/runtime/logger.js';
import { Controller } from './controller/controller.js';
import { workQueueMetrics, type ControllerMetrics } from './controller/metrics.js';
import { defaultControllerRateLimiter } from './controller/rate-limiter.js';
import { WorkQueue } from './controller/workqueue.js';
import type { MarketPipeline } from './crd/spec.js';
import type { KubeClient } from './kube/client.js';
import { Informer } from './kube/informer.js';
import { controllerOf, type KubeObject, type Kind } from './kube/resources.js';
import { EventRecorder } from './reconcile/events.js';
import { PipelineReconciler } from './reconcile/reconciler.js';
import { LABEL, MANAGED_SELECTOR } from './render/names.js';
import type { RenderOptions } from './render/pod.js';

export const CONTROLLER_NAME = 'marketpipeline';

export interface OperatorOptions {
  namespaces: string[];
  workers: number;
  resyncMs: number;
  secretRecheckMs: number;
  render: RenderOptions;
  identity: string;
}

/** Owned kinds and the label selector of their informer (only objects we manage). */
const OWNED: [Kind, string][] = [
  ['ConfigMap', MANAGED_SELECTOR],
  ['ServiceAccount', MANAGED_SELECTOR],
  ['Service', MANAGED_SELECTOR],
  ['Deployment', MANAGED_SELECTOR],
  ['CronJob', MANAGED_SELECTOR],
  // Only the migrate Job: the aggregator and backfill runs (created by CronJobs, with the same
  // labels) would otherwise wake the reconciler every few minutes for nothing.
  ['Job', `${MANAGED_SELECTOR},${LABEL.component}=migrate`],
];

export class Operator {
  readonly queue: WorkQueue;
  private readonly pipelines: Informer<MarketPipeline & KubeObject>;
  private readonly owned: Informer<KubeObject>[];
  private readonly controller: Controller;
  private readonly seenGeneration = new Map<string, number>();
  private resyncTimer: NodeJS.Timeout | undefined;
  private started = false;

  constructor(
    client: KubeClient,
    kubeConfig: KubeConfig,
    metrics: ControllerMetrics,
    private readonly log: Logger,
    private readonly options: OperatorOptions,
  ) {
    this.queue = new WorkQueue(defaultControllerRateLimiter(), workQueueMetrics(metrics, CONTROLLER_NAME));
    const namespaces = options.namespaces;
    this.pipelines = new Informer(client, kubeConfig, { kind: 'MarketPipeline', namespaces }, log);
    this.owned = OWNED.map(
      ([kind, labelSelector]) =>
        new Informer<KubeObject>(client, kubeConfig, { kind, namespaces, labelSelector }, log),
    );

    // Spec changes only: our own status writes (and other status-only updates) bump the
    // resourceVersion but not the generation, and must not cause another reconcile.
    this.pipelines.on((p, event) => {
      const key = `${p.metadata.namespace}/${p.metadata.name}`;
      if (event === 'delete') {
        this.seenGeneration.delete(key);
        this.wakeRelaysOf(p);
        return;
      }
      const generation = p.metadata.generation ?? 0;
      if (this.seenGeneration.get(key) === generation) return;
      this.seenGeneration.set(key, generation);
      this.queue.add(key);
      this.wakeRelaysOf(p);
    });
    // Any change to an owned object (edited, deleted, status from its controller) wakes its owner.
    for (const informer of this.owned) {
      informer.on((obj) => {
        const owner = controllerOf(obj);
        if (owner?.kind === 'MarketPipeline' && obj.metadata.namespace) {
          this.queue.add(`${obj.metadata.namespace}/${owner.name}`);
        }
      });
    }

    const reconciler = new PipelineReconciler(
      client,
      this.pipelines,
      {
        list: (namespace) =>
          this.owned.flatMap((informer) =>
            informer.list(namespace).map((object) => ({ kind: informer.kind, object })),
          ),
      },
      new EventRecorder(client, options.identity, log),
      log,
      { render: options.render, secretRecheckMs: options.secretRecheckMs },
    );
    this.controller = new Controller(CONTROLLER_NAME, this.queue, reconciler.reconcile, metrics, log);
  }

  /** The pipelines relaying from `source` (spec.source.relay) depend on its spec: reconcile them too. */
  private wakeRelaysOf(source: MarketPipeline): void {
    for (const r of this.pipelines.list()) {
      const relay = r.spec?.source?.relay;
      if (
        relay?.pipeline === source.metadata.name &&
        (relay.namespace ?? r.metadata.namespace) === source.metadata.namespace
      ) {
        this.queue.add(`${r.metadata.namespace}/${r.metadata.name}`);
      }
    }
  }

  /** The MarketPipelines in the cache (none while standing by: the informers run on the leader). */
  listPipelines(): MarketPipeline[] {
    return this.pipelines.list();
  }

  /** Caches filled (every informer listed once): the workers may trust what they read. */
  get synced(): boolean {
    return this.pipelines.synced && this.owned.every((i) => i.synced);
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const scope = this.options.namespaces.length ? this.options.namespaces.join(',') : 'all namespaces';
    this.log.info({ namespaces: scope }, 'starting informers');
    // Children first: by the time MarketPipelines are listed (and queued), their children are known.
    await Promise.all(this.owned.map((i) => i.start()));
    await this.pipelines.start();
    if (!this.started) return; // stopped while starting
    this.controller.start(this.options.workers);
    this.resyncTimer = setInterval(() => this.resync(), this.options.resyncMs);
    this.resyncTimer.unref();
    this.log.info({ workers: this.options.workers }, 'caches synced; reconciling');
  }

  /** Level-triggered safety net: reconcile everything now and then, whatever the watches missed. */
  resync(): void {
    for (const p of this.pipelines.list()) this.queue.add(`${p.metadata.namespace}/${p.metadata.name}`);
  }

  /** Stops taking work, waits for reconciles in progress, closes the watches. */
  async stop(): Promise<void> {
    this.started = false;
    clearInterval(this.resyncTimer);
    await this.controller.stop();
    await Promise.all([this.pipelines.stop(), ...this.owned.map((i) => i.stop())]);
  }
}
