// Pod templates of the workloads: one image, one entry point, a command each, and the same
// hardening everywhere (restricted Pod Security Standard: non-root, read-only root file
// system with a writable /tmp, no capabilities, RuntimeDefault seccomp).
import type {
  V1Container,
  V1EnvVar,
  V1PodTemplateSpec,
  V1ResourceRequirements,
} from '@kubernetes/client-node';
import type { MarketPipelineSpec, Resources } from '../crd/spec.js';
import { WORKLOAD_NODE_OPTIONS } from '../../../workloads/src/runtime/node-options.js';
import { literalEnv, secretEnv, WORKLOAD_METRICS_PORT } from './env.js';
import { childName, LABEL, selectorLabels, type Component } from './names.js';

/** The workload image a pipeline runs when its spec.image does not say otherwise. */
export interface WorkloadImage {
  repository: string;
  tag: string;
  /** sha256:…; when set, the default image is pinned by it instead of the tag. */
  digest?: string;
}

/** The image of this release of the product (the chart sets the operator's WORKLOAD_IMAGE_*). */
export const DEFAULT_WORKLOAD_IMAGE: WorkloadImage = {
  repository: 'ghcr.io/suho/market-pipeline-workloads',
  tag: '0.1.0',
};

/**
 * The image reference of a pipeline's pods: spec.image's fields where set, the operator's
 * default elsewhere. A digest wins over a tag; a spec tag or repository drops the default's
 * digest (it identifies the default image only).
 */
export function workloadImageRef(spec: MarketPipelineSpec['image'], fallback: WorkloadImage): string {
  const repository = spec.repository ?? fallback.repository;
  if (spec.digest) return `${repository}@${spec.digest}`;
  if (spec.tag) return `${repository}:${spec.tag}`;
  if (fallback.digest && !spec.repository) return `${repository}@${fallback.digest}`;
  return `${repository}:${fallback.tag}`;
}

/** Operator-wide settings of the rendering (not part of any one MarketPipeline). */
export interface RenderOptions {
  /** Image of pipelines whose spec.image leaves repository, tag and digest unset. */
  workloadImage: WorkloadImage;
  /** The image's entry point: `market-pipeline <command>`. */
  workloadCommand: string[];
  /** UID the workloads run as (the node image's `node` user). */
  runAsUser: number;
  /** Requests/limits for what the spec leaves unset. */
  defaultResources: Record<Component, Resources>;
}

export const DEFAULT_RENDER_OPTIONS: RenderOptions = {
  workloadImage: DEFAULT_WORKLOAD_IMAGE,
  workloadCommand: ['market-pipeline'],
  runAsUser: 1000,
  // Memory limits but no CPU limits by default: CPU limits throttle the latency-sensitive
  // collector and bridge; set spec.<component>.resources.limits.cpu to have one.
  defaultResources: {
    collector: { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '256Mi' } },
    bridge: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '512Mi' } },
    aggregator: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '512Mi' } },
    backfill: { requests: { cpu: '50m', memory: '256Mi' }, limits: { memory: '512Mi' } },
    migrate: { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '256Mi' } },
    simulator: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '128Mi' } },
  },
};

const QUANTITY_FACTORS: Record<string, number> = {
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};

/** Value of a Kubernetes quantity in base units (cores, bytes); the spec's pattern guarantees the form. */
export function parseQuantity(quantity: string): number {
  const match = /^([0-9.]+)([a-zA-Z]*)$/.exec(quantity);
  const factor = match ? QUANTITY_FACTORS[match[2]!] : undefined;
  if (!match || factor === undefined) throw new Error(`not a quantity: ${quantity}`);
  return Number(match[1]) * factor;
}

/**
 * The spec's resources over the defaults, field by field. A request set above a *default*
 * limit raises that limit to the request (a pod with request > limit is refused); a limit
 * the user set is theirs to get right, and the API server says so if it is not.
 */
export function mergeResources(defaults: Resources, spec: Resources | undefined): V1ResourceRequirements {
  const requests = { ...defaults.requests, ...spec?.requests };
  const limits: Record<string, string> = { ...defaults.limits, ...spec?.limits };
  for (const resource of ['cpu', 'memory'] as const) {
    const request = requests[resource];
    const limit = limits[resource];
    const userLimit = spec?.limits?.[resource] !== undefined;
    if (request && limit && !userLimit && parseQuantity(request) > parseQuantity(limit))
      limits[resource] = request;
  }
  return { requests: clean(requests), limits: clean(limits) };
}

function clean(list: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(list).filter((e): e is [string, string] => e[1] !== undefined));
}

export function componentResources(
  component: Component,
  spec: MarketPipelineSpec,
  options: RenderOptions,
): V1ResourceRequirements {
  const fromSpec: Record<Component, Resources | undefined> = {
    collector: spec.collector.resources,
    bridge: spec.bridge.resources,
    aggregator: spec.aggregator.resources,
    backfill: spec.backfill.resources,
    migrate: spec.migrate.resources,
    simulator: spec.source.simulator?.resources,
  };
  return mergeResources(options.defaultResources[component], fromSpec[component]);
}

export interface PodTemplateInput {
  pipelineName: string;
  spec: MarketPipelineSpec;
  options: RenderOptions;
  component: Component;
  /** Arguments after the entry point, e.g. ['aggregate', '--timeframe', '5m']. */
  args: string[];
  /** Long-running (Deployment) pods serve metrics and get probes; Job pods do not. */
  longRunning: boolean;
  extraPorts?: { name: string; containerPort: number }[];
  extraLabels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export function podTemplate(input: PodTemplateInput): V1PodTemplateSpec {
  const { pipelineName, spec, options, component, longRunning } = input;
  const labels: Record<string, string> = {
    ...selectorLabels(pipelineName, component),
    ...(longRunning ? { [LABEL.metrics]: 'true' } : {}),
    ...input.extraLabels,
  };
  const env: V1EnvVar[] = [
    ...secretEnv(component, spec).map((s): V1EnvVar => ({
      name: s.env,
      valueFrom: { secretKeyRef: { name: s.ref.name, key: s.ref.key } },
    })),
    ...Object.entries(literalEnv(component, spec)).map(([name, value]): V1EnvVar => ({ name, value })),
    // Also set by the image; rendered too, so a pipeline on an image of its own gets it.
    { name: 'NODE_OPTIONS', value: WORKLOAD_NODE_OPTIONS },
  ].sort((a, b) => a.name.localeCompare(b.name));

  const container: V1Container = {
    name: component,
    image: workloadImageRef(spec.image, options.workloadImage),
    imagePullPolicy: spec.image.pullPolicy,
    command: options.workloadCommand,
    args: input.args,
    envFrom: [{ configMapRef: { name: childName.config(pipelineName) } }],
    ...(env.length ? { env } : {}),
    resources: componentResources(component, spec, options),
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    },
    volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
  };
  if (longRunning) {
    container.ports = [
      { name: 'metrics', containerPort: WORKLOAD_METRICS_PORT, protocol: 'TCP' },
      ...(input.extraPorts ?? []).map((p) => ({ ...p, protocol: 'TCP' })),
    ];
    container.readinessProbe = {
      httpGet: { path: '/readyz', port: 'metrics' },
      periodSeconds: 10,
      timeoutSeconds: 3,
      failureThreshold: 3,
    };
    container.livenessProbe = {
      httpGet: { path: '/healthz', port: 'metrics' },
      initialDelaySeconds: 10,
      periodSeconds: 20,
      timeoutSeconds: 5,
      failureThreshold: 3,
    };
  }

  return {
    metadata: { labels, ...(input.annotations ? { annotations: input.annotations } : {}) },
    spec: {
      serviceAccountName: childName.serviceAccount(pipelineName),
      // The workloads never call the Kubernetes API.
      automountServiceAccountToken: false,
      // Service links would inject e.g. TIMESCALEDB_PORT=tcp://10.0.0.5:5432 for a Service
      // named `timescaledb`: the very variable names the workloads read.
      enableServiceLinks: false,
      restartPolicy: longRunning ? 'Always' : 'Never',
      // The workloads' shutdown deadline is 25 s (runtime/shutdown.ts).
      terminationGracePeriodSeconds: 30,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: options.runAsUser,
        runAsGroup: options.runAsUser,
        fsGroup: options.runAsUser,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      ...(spec.image.pullSecrets?.length ? { imagePullSecrets: spec.image.pullSecrets } : {}),
      containers: [container],
      volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }],
    },
  };
}
