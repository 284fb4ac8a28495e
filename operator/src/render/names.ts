// Names, labels and annotations of the objects a MarketPipeline owns: fixed by
// ARCHITECTURE.md ("The custom resource"), so users and dashboards can rely on them.
import type { Timeframe } from '../../../workloads/src/contracts/timeframes.js';
import { API_GROUP, API_VERSION, KIND, type MarketPipeline } from '../crd/spec.js';
import type { OwnerReference } from '../kube/resources.js';

export const MANAGED_BY = 'market-pipeline-operator';

export const COMPONENTS = ['collector', 'bridge', 'aggregator', 'backfill', 'migrate', 'simulator'] as const;
export type Component = (typeof COMPONENTS)[number];

export const LABEL = {
  name: 'app.kubernetes.io/name',
  instance: 'app.kubernetes.io/instance',
  component: 'app.kubernetes.io/component',
  managedBy: 'app.kubernetes.io/managed-by',
  /** Which aggregator CronJob a Job came from; the component label alone cannot say. */
  timeframe: `${API_GROUP}/timeframe`,
  /** Pods that serve /metrics (long-running ones); the metrics Service selects these. */
  metrics: `${API_GROUP}/metrics`,
} as const;

export const ANNOTATION = {
  /** Hash of the settings a pod reads at start: a change rolls the Deployments. */
  configChecksum: `${API_GROUP}/config-checksum`,
  /** Hash of the migrate Job's spec: a change means the Job must be replaced (its template is immutable). */
  schemaChecksum: `${API_GROUP}/schema-checksum`,
} as const;

/** Selects every object the operator manages (the informers' label selector). */
export const MANAGED_SELECTOR = `${LABEL.managedBy}=${MANAGED_BY}`;

export const childName = {
  config: (p: string) => `${p}-config`,
  serviceAccount: (p: string) => p,
  migrate: (p: string) => `${p}-migrate`,
  collector: (p: string) => `${p}-collector`,
  bridge: (p: string) => `${p}-bridge`,
  aggregator: (p: string, tf: Timeframe) => `${p}-aggregator-${tf}`,
  backfill: (p: string) => `${p}-backfill`,
  metrics: (p: string) => `${p}-metrics`,
  simulator: (p: string) => `${p}-simulator`,
};

/** The labels that select a component's pods (immutable in a Deployment once created). */
export function selectorLabels(instance: string, component: Component): Record<string, string> {
  return { [LABEL.name]: 'market-pipeline', [LABEL.instance]: instance, [LABEL.component]: component };
}

export function componentLabels(instance: string, component: Component): Record<string, string> {
  return { ...selectorLabels(instance, component), [LABEL.managedBy]: MANAGED_BY };
}

/** A controller reference: deleting the MarketPipeline lets the garbage collector remove the object. */
export function ownerReference(pipeline: MarketPipeline): OwnerReference {
  return {
    apiVersion: `${API_GROUP}/${API_VERSION}`,
    kind: KIND,
    name: pipeline.metadata.name,
    uid: pipeline.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}
