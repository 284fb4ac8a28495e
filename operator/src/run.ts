// One operator instance: the ops server (metrics, /healthz, /readyz), leader election and
// the controller, which runs only while this instance leads. main.ts adds the process parts
// (configuration, signals, exit); tests run instances in-process through this.
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../../workloads/src/runtime/logger.js';
import { createRegistry, startOpsServer, type OpsServer } from '../../workloads/src/runtime/ops-server.js';
import type { OperatorConfig } from './config.js';
import { createControllerMetrics } from './controller/metrics.js';
import { createPipelineMetrics } from './controller/pipeline-metrics.js';
import { KubeClient } from './kube/client.js';
import { LeaderElector } from './leader/elector.js';
import { kubeLeaseStore } from './leader/lease-store.js';
import { Operator } from './operator.js';
import { DEFAULT_RENDER_OPTIONS } from './render/pod.js';

export interface OperatorInstance {
  identity: string;
  ops: OpsServer;
  readonly isLeader: boolean;
  /** Resolves when the instance stops leading: 'lost' (lease lost; exit now) or 'stopped'. */
  done: Promise<'lost' | 'stopped'>;
  /** Graceful: stop reconciling, release the lease, close the ops server. */
  stop(): Promise<void>;
  /** A crash, for tests: stop everything but keep the lease, as a killed process would. */
  abandon(): Promise<void>;
}

export async function startOperator(
  config: OperatorConfig,
  kubeConfig: KubeConfig,
  log: Logger,
): Promise<OperatorInstance> {
  const identity = `${config.POD_NAME ?? os.hostname()}_${randomUUID()}`;
  const client = new KubeClient(kubeConfig);
  const registry = createRegistry('market-pipeline-operator');
  const metrics = createControllerMetrics(registry);
  const ops = await startOpsServer(registry, config.METRICS_PORT);
  const operator = new Operator(client, kubeConfig, metrics, log, {
    namespaces: config.WATCH_NAMESPACE,
    workers: config.WORKERS,
    resyncMs: config.RESYNC_SECONDS * 1000,
    secretRecheckMs: config.SECRET_RECHECK_SECONDS * 1000,
    render: {
      ...DEFAULT_RENDER_OPTIONS,
      workloadImage: {
        repository: config.WORKLOAD_IMAGE_REPOSITORY,
        tag: config.WORKLOAD_IMAGE_TAG,
        ...(config.WORKLOAD_IMAGE_DIGEST ? { digest: config.WORKLOAD_IMAGE_DIGEST } : {}),
      },
      workloadCommand: config.WORKLOAD_COMMAND.split(/\s+/),
    },
    identity,
  });
  createPipelineMetrics(registry, () => operator.listPipelines());

  const leaseName = config.LEADER_ELECTION_ID;
  const leaseNamespace = config.LEADER_ELECTION_NAMESPACE ?? config.POD_NAMESPACE ?? 'default';
  const elector = config.LEADER_ELECTION
    ? new LeaderElector(
        kubeLeaseStore(client, leaseNamespace, leaseName),
        {
          identity,
          leaseDurationMs: config.LEADER_ELECTION_LEASE_DURATION_SECONDS * 1000,
          renewDeadlineMs: config.LEADER_ELECTION_RENEW_DEADLINE_SECONDS * 1000,
          retryPeriodMs: config.LEADER_ELECTION_RETRY_PERIOD_SECONDS * 1000,
        },
        log.child({ component: 'leader-election' }),
      )
    : undefined;

  // Ready when standing by (a standby is healthy: it is waiting for the lease), or when
  // leading with every cache synced.
  ops.addReadinessCheck({
    name: 'informers',
    check: () => ((elector && !elector.isLeader) || operator.synced ? undefined : 'caches not synced yet'),
  });
  metrics.leader.set({ name: leaseName }, 0);

  const abort = new AbortController();
  const startReconciling = () => {
    metrics.leader.set({ name: leaseName }, 1);
    operator.start().catch((error: unknown) => log.error({ err: error }, 'operator failed to start'));
  };
  let done: Promise<'lost' | 'stopped'>;
  if (elector) {
    log.info({ identity, lease: `${leaseNamespace}/${leaseName}` }, 'waiting to become leader');
    done = elector.run(abort.signal, startReconciling).then(async (outcome) => {
      metrics.leader.set({ name: leaseName }, 0);
      // Lost: someone else may lead already, so stop reconciling at once (no graceful drain).
      if (outcome === 'lost') void operator.stop();
      return outcome;
    });
  } else {
    startReconciling();
    done = new Promise((resolve) =>
      abort.signal.addEventListener('abort', () => resolve('stopped'), { once: true }),
    );
  }

  return {
    identity,
    ops,
    get isLeader() {
      return elector ? elector.isLeader : true;
    },
    done,
    async stop() {
      abort.abort();
      await operator.stop();
      await elector?.release();
      await ops.close();
    },
    async abandon() {
      abort.abort();
      await operator.stop();
      await ops.close();
    },
  };
}
