// The "process kubelet": on the test servers no kubelet (and no scheduler) runs, so this
// stands in for both for the pods of one MarketPipeline. It watches the pods the real
// controllers create (label app.kubernetes.io/instance=<pipeline>), binds each to its Node
// (the binding subresource, as kube-scheduler does), runs each container as a local process
// (container-runner.ts) with the environment resolved from the API server as the kubelet
// resolves it (container-env.ts), and reports pod status back (phase, conditions, container
// states from the processes and their readiness probes), so that Deployments become
// Available and Jobs Complete through the real controllers. A pod being deleted has its
// processes stopped (SIGTERM, grace period, SIGKILL) and is then removed, as a kubelet does,
// so rollouts and pruning proceed. Networking: local-network.ts (the one deviation).
import { mkdirSync } from 'node:fs';
import type { KubeConfig, V1Pod } from '@kubernetes/client-node';
import { HttpMethod } from '@kubernetes/client-node';
import { isConflict, isNotFound, type KubeClient } from '../../operator/src/kube/client.js';
import { Informer, type InformerEvent } from '../../operator/src/kube/informer.js';
import type { KubeObject } from '../../operator/src/kube/resources.js';
import type { Logger } from '../../workloads/src/runtime/logger.js';
import { resolveContainerEnv, type ConfigSource } from './container-env.js';
import { ContainerRunner, type ContainerStatus, type WorkloadFailure } from './container-runner.js';
import { allocatePodPorts, LocalNetwork, type PodPorts } from './local-network.js';
import { registerNode, type RegisteredNode } from './node-registration.js';
import { rfc3339 } from '../../operator/src/kube/time.js';

export interface ProcessKubeletOptions {
  client: KubeClient;
  kubeConfig: KubeConfig;
  namespace: string;
  /** Pods this kubelet runs, e.g. app.kubernetes.io/instance=fx-demo. */
  labelSelector: string;
  nodeName: string;
  repoRoot: string;
  /** Each container's output goes to <logDir>/<pod>_<container>.log. */
  logDir: string;
  log: Logger;
}

type Pod = V1Pod & KubeObject;

const LOOPBACK = '127.0.0.1';

/** Pod status as sent (RFC 3339 strings where client-node's types say Date). */
interface PodStatus {
  phase: string;
  hostIP: string;
  hostIPs: { ip: string }[];
  podIP: string;
  podIPs: { ip: string }[];
  startTime: string;
  conditions: PodCondition[];
  containerStatuses: ContainerStatus[];
}

interface PodCondition {
  type: string;
  status: 'True' | 'False';
  reason?: string;
  lastTransitionTime: string;
}
const now = () => rfc3339(Date.now());

export class ProcessKubelet {
  readonly failures: WorkloadFailure[] = [];
  private readonly runtimes = new Map<string, PodRuntime>();
  /** Per pod uid: the events are handled one after another. */
  private readonly queues = new Map<string, Promise<void>>();
  private readonly network: LocalNetwork;
  private informer: Informer<Pod> | undefined;
  private node: RegisteredNode | undefined;

  constructor(private readonly options: ProcessKubeletOptions) {
    this.network = new LocalNetwork(options.client, options.log);
    mkdirSync(options.logDir, { recursive: true });
  }

  async start(): Promise<void> {
    const { client, kubeConfig, namespace, labelSelector, nodeName, log } = this.options;
    this.node = await registerNode(client, nodeName, log);
    this.informer = new Informer<Pod>(
      client,
      kubeConfig,
      { kind: 'Pod', namespaces: [namespace], labelSelector },
      log,
    );
    this.informer.on((pod, event) => this.enqueue(pod, event));
    await this.informer.start();
  }

  /** Stops every process at once (no grace: the run is over) and removes the Node. */
  async stop(): Promise<void> {
    await this.informer?.stop();
    await Promise.all([...this.runtimes.values()].map((r) => r.stop(5)));
    this.runtimes.clear();
    await this.network.close();
    await this.node?.remove();
  }

  /** Output of a container of a pod this kubelet ran (empty when it never ran here). */
  outputOf(podName: string, container: string, previous = false): string {
    const runtime = [...this.runtimes.values()].find((r) => r.podName === podName);
    return runtime?.containerOutput(container, previous) ?? '';
  }

  private enqueue(pod: Pod, event: InformerEvent): void {
    const uid = pod.metadata.uid!;
    const previous = this.queues.get(uid) ?? Promise.resolve();
    const next = previous
      .then(() => this.sync(pod, event))
      .catch((error: unknown) =>
        this.options.log.error({ err: error, pod: pod.metadata.name }, 'process kubelet: pod sync failed'),
      );
    this.queues.set(uid, next);
    void next.then(() => {
      if (this.queues.get(uid) === next) this.queues.delete(uid);
    });
  }

  private async sync(pod: Pod, event: InformerEvent): Promise<void> {
    const uid = pod.metadata.uid!;
    const runtime = this.runtimes.get(uid);
    if (event === 'delete') {
      // Gone from the API (force-deleted, or our own final delete): stop what still runs.
      await runtime?.stop(pod.spec?.terminationGracePeriodSeconds ?? 30);
      this.runtimes.delete(uid);
      return;
    }
    if (pod.metadata.deletionTimestamp) {
      if (pod.spec?.nodeName && pod.spec.nodeName !== this.options.nodeName) return;
      await runtime?.stop(
        pod.metadata.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30,
      );
      if (runtime) await runtime.publishStatus();
      await this.finalizeDeletion(pod);
      this.runtimes.delete(uid);
      return;
    }
    if (!pod.spec?.nodeName) return this.bind(pod);
    if (pod.spec.nodeName !== this.options.nodeName || runtime) return;
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return;
    const created = await PodRuntime.create(pod, this.options, this.network, (f) => this.recordFailure(f));
    this.runtimes.set(uid, created);
    created.start();
  }

  private recordFailure(failure: WorkloadFailure): void {
    this.failures.push(failure);
    this.options.log.error(
      { pod: failure.pod, container: failure.container, failure: failure.message },
      'workload failure',
    );
  }

  private async bind(pod: Pod): Promise<void> {
    const { client, nodeName } = this.options;
    try {
      await client.request(
        HttpMethod.POST,
        `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}/binding`,
        {
          body: {
            apiVersion: 'v1',
            kind: 'Binding',
            metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace, uid: pod.metadata.uid },
            target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
          },
        },
      );
    } catch (error) {
      if (!isConflict(error) && !isNotFound(error)) throw error; // already bound, or gone
    }
  }

  /** The kubelet's last word on a pod: delete it now that its containers have stopped. */
  private async finalizeDeletion(pod: Pod): Promise<void> {
    try {
      await this.options.client.request(
        HttpMethod.DELETE,
        `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}`,
        {
          body: {
            apiVersion: 'v1',
            kind: 'DeleteOptions',
            gracePeriodSeconds: 0,
            preconditions: { uid: pod.metadata.uid },
          },
        },
      );
    } catch (error) {
      if (!isNotFound(error) && !isConflict(error)) throw error;
    }
  }
}

/** One pod's containers, its ports and the status reported for it. */
class PodRuntime {
  private readonly runners: ContainerRunner[];
  private readonly startTime = now();
  private lastSent = '';
  private readonly transitions = new Map<string, { status: string; at: string }>();
  private publishing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly pod: Pod,
    private readonly options: ProcessKubeletOptions,
    private readonly network: LocalNetwork,
    private readonly ports: PodPorts,
    onFailure: (failure: WorkloadFailure) => void,
  ) {
    const source = apiConfigSource(options.client);
    this.runners = pod.spec!.containers.map(
      (container) =>
        new ContainerRunner({
          podName: this.podName,
          container,
          restartPolicy: pod.spec!.restartPolicy ?? 'Always',
          environment: async () =>
            network.processEnv(pod, await resolveContainerEnv(pod, container, source), ports),
          ports,
          repoRoot: options.repoRoot,
          logDir: options.logDir,
          log: options.log,
          onChange: () => this.changed(),
          onFailure,
        }),
    );
  }

  static async create(
    pod: Pod,
    options: ProcessKubeletOptions,
    network: LocalNetwork,
    onFailure: (failure: WorkloadFailure) => void,
  ): Promise<PodRuntime> {
    const runtime = new PodRuntime(pod, options, network, await allocatePodPorts(pod), onFailure);
    if (pod.spec!.initContainers?.length) {
      onFailure({
        pod: runtime.podName,
        container: pod.spec!.initContainers[0]!.name,
        message: 'init containers are not supported by the process kubelet',
        output: '',
      });
    }
    return runtime;
  }

  get podName(): string {
    return this.pod.metadata.name!;
  }

  start(): void {
    this.network.setEndpoint(this.pod.metadata.uid!, this.pod, this.ports, false);
    for (const runner of this.runners) runner.start();
    void this.publishStatus();
  }

  async stop(graceSeconds: number): Promise<void> {
    this.network.removeEndpoint(this.pod.metadata.uid!);
    await Promise.all(this.runners.map((r) => r.stop(graceSeconds)));
  }

  containerOutput(container: string, previous: boolean): string | undefined {
    return this.runners.find((r) => r.name === container)?.outputTail(previous);
  }

  private changed(): void {
    const ready = this.runners.every((r) => r.status().ready);
    this.network.setEndpoint(this.pod.metadata.uid!, this.pod, this.ports, ready);
    void this.publishStatus();
  }

  /** Patches pod status when it changed; one patch at a time, the latest state wins. */
  publishStatus(): Promise<void> {
    this.publishing = this.publishing
      .then(async () => {
        const status = this.status();
        const body = JSON.stringify({ status });
        if (body === this.lastSent) return;
        await this.options.client.request(
          HttpMethod.PATCH,
          `/api/v1/namespaces/${this.pod.metadata.namespace}/pods/${this.podName}/status`,
          { body: { status }, contentType: 'application/strategic-merge-patch+json' },
        );
        this.lastSent = body;
      })
      .catch((error: unknown) => {
        if (!isNotFound(error))
          this.options.log.warn({ err: error, pod: this.podName }, 'pod status update failed');
      });
    return this.publishing;
  }

  private status(): PodStatus {
    const containers = this.runners.map((r) => r.status());
    const restartPolicy = this.pod.spec!.restartPolicy ?? 'Always';
    const allFinished = this.runners.every((r) => r.finished);
    const allSucceeded = this.runners.every((r) => r.exitCode === 0);
    let phase = 'Pending';
    if (allFinished && restartPolicy !== 'Always' && (restartPolicy === 'Never' || allSucceeded)) {
      phase = allSucceeded ? 'Succeeded' : 'Failed';
    } else if (containers.some((c) => c.started)) {
      phase = 'Running';
    }
    const ready = phase === 'Running' && containers.every((c) => c.ready);
    const notReadyReason =
      phase === 'Succeeded' || phase === 'Failed' ? 'PodCompleted' : 'ContainersNotReady';
    const condition = (type: string, ok: boolean, reason?: string): PodCondition => {
      const status = ok ? 'True' : 'False';
      const previous = this.transitions.get(type);
      if (previous?.status !== status) this.transitions.set(type, { status, at: now() });
      return {
        type,
        status,
        ...(ok || !reason ? {} : { reason }),
        lastTransitionTime: this.transitions.get(type)!.at,
      };
    };
    return {
      phase,
      hostIP: LOOPBACK,
      hostIPs: [{ ip: LOOPBACK }],
      podIP: LOOPBACK,
      podIPs: [{ ip: LOOPBACK }],
      startTime: this.startTime,
      conditions: [
        condition('PodReadyToStartContainers', true),
        condition('Initialized', true),
        condition('ContainersReady', ready, notReadyReason),
        condition('Ready', ready, notReadyReason),
        condition('PodScheduled', true),
      ],
      containerStatuses: containers,
    };
  }
}

/** ConfigMaps and Secrets read from the API server at each container start, as the kubelet does. */
function apiConfigSource(client: KubeClient): ConfigSource {
  return {
    async configMap(namespace, name) {
      const cm = await client.get<KubeObject & { data?: Record<string, string> }>(
        'ConfigMap',
        namespace,
        name,
      );
      return cm ? (cm.data ?? {}) : undefined;
    },
    async secret(namespace, name) {
      const secret = await client.get<KubeObject & { data?: Record<string, string> }>(
        'Secret',
        namespace,
        name,
      );
      if (!secret) return undefined;
      return Object.fromEntries(
        Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
      );
    },
  };
}
