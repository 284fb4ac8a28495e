// The desired state: a pure function from a MarketPipeline (and the operator's rendering
// options) to every object it should own. No I/O, no clock: the reconciler decides what to
// apply, hold back or prune; this only says what "right" looks like.
import type {
  V1ConfigMap,
  V1CronJob,
  V1Deployment,
  V1Job,
  V1Service,
  V1ServiceAccount,
} from '@kubernetes/client-node';
import {
  TIMEFRAME_MS,
  TIMEFRAME_SCHEDULE,
  type Timeframe,
} from '../../../workloads/src/contracts/timeframes.js';
import type { MarketPipeline, MarketPipelineSpec } from '../crd/spec.js';
import type { Kind, KubeObject } from '../kube/resources.js';
import {
  configChecksum,
  configData,
  type RelaySourceIds,
  secretEnv,
  sha256,
  WORKLOAD_METRICS_PORT,
  type SecretEnv,
} from './env.js';
import {
  ANNOTATION,
  childName,
  componentLabels,
  LABEL,
  MANAGED_BY,
  ownerReference,
  selectorLabels,
  type Component,
} from './names.js';
import { DEFAULT_RENDER_OPTIONS, podTemplate, type RenderOptions } from './pod.js';

export interface DesiredObject {
  kind: Kind;
  object: KubeObject;
  /** The component it belongs to; 'shared' for the ConfigMap, ServiceAccount, metrics Service. */
  component: Component | 'shared';
  /** Secret keys its pods read: it is not started while one is missing. */
  secrets: SecretEnv[];
  /** It touches database tables, so it waits for the migrate Job to have succeeded. */
  needsSchema: boolean;
}

export interface DesiredState {
  objects: DesiredObject[];
  configChecksum: string;
  /** Identifies the migrate Job's content; a different value means the Job must be replaced. */
  schemaChecksum: string;
}

/** Aggregator run limits. Deadlines stay below the period so that, with concurrencyPolicy
 * Forbid, a hung run can never block the next scheduled one. */
export function aggregatorDeadlines(tf: Timeframe): {
  startingDeadlineSeconds: number;
  activeDeadlineSeconds: number;
} {
  const periodSeconds = TIMEFRAME_MS[tf] / 1000;
  return {
    // A run that could not start within half a period (controller down) is skipped; the next covers it.
    startingDeadlineSeconds: Math.min(periodSeconds / 2, 3600),
    activeDeadlineSeconds: Math.min(periodSeconds - 60, 3600),
  };
}

const MIGRATE_BACKOFF_LIMIT = 4;
const MIGRATE_DEADLINE_SECONDS = 900;
const CRON_JOB_BACKOFF_LIMIT = 2;

/**
 * Backfill of a relay without a REST key (spec.source.relay.polygonRest): it has nothing to
 * fetch bars with, so its CronJob is rendered suspended.
 */
export function backfillWithoutKey(spec: MarketPipelineSpec): boolean {
  return spec.source.relay !== undefined && spec.source.relay.polygonRest === undefined;
}

export function desiredState(
  pipeline: MarketPipeline,
  options: RenderOptions = DEFAULT_RENDER_OPTIONS,
  /** A relay's resolved source (reconcile/relay-source.ts); unresolved: the relay runs 0 replicas. */
  relaySource?: RelaySourceIds,
): DesiredState {
  const name = pipeline.metadata.name;
  const namespace = pipeline.metadata.namespace;
  const spec: MarketPipelineSpec = pipeline.spec;
  const owner = ownerReference(pipeline);
  const meta = (
    objectName: string,
    component: Component | 'shared',
    extraLabels?: Record<string, string>,
  ) => ({
    name: objectName,
    namespace,
    labels: {
      ...(component === 'shared'
        ? { [LABEL.name]: 'market-pipeline', [LABEL.instance]: name, [LABEL.managedBy]: MANAGED_BY }
        : componentLabels(name, component)),
      ...extraLabels,
    },
    ownerReferences: [owner],
  });

  const data = configData(name, spec, namespace, relaySource);
  const relay = spec.source.relay !== undefined;
  const checksum = configChecksum(data, spec);
  const objects: DesiredObject[] = [];
  const add = (kind: Kind, object: object, component: DesiredObject['component'], needsSchema = false) =>
    objects.push({
      kind,
      object: object as KubeObject,
      component,
      secrets: component === 'shared' ? [] : secretEnv(component, spec),
      needsSchema,
    });
  const template = (component: Component, args: string[], longRunning: boolean, extra = {}) =>
    podTemplate({ pipelineName: name, spec, options, component, args, longRunning, ...extra });

  add(
    'ConfigMap',
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: meta(childName.config(name), 'shared'),
      data,
    } satisfies V1ConfigMap,
    'shared',
  );
  add(
    'ServiceAccount',
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: meta(childName.serviceAccount(name), 'shared'),
      automountServiceAccountToken: false,
    } satisfies V1ServiceAccount,
    'shared',
  );
  add(
    'Service',
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(childName.metrics(name), 'shared'),
      spec: {
        // Headless: Prometheus scrapes every pod, not one picked by a virtual IP.
        clusterIP: 'None',
        selector: { [LABEL.instance]: name, [LABEL.name]: 'market-pipeline', [LABEL.metrics]: 'true' },
        ports: [{ name: 'metrics', port: WORKLOAD_METRICS_PORT, targetPort: 'metrics', protocol: 'TCP' }],
      },
    } satisfies V1Service,
    'shared',
  );

  // The migrate Job. Its spec is immutable, so its content is hashed: the reconciler replaces
  // the Job when the hash changes (new image, other database settings) and otherwise keeps
  // it, finished, as the record that the schema is in place.
  const migrateTemplate = template('migrate', ['migrate'], false);
  const databaseSettings = Object.entries(data).filter(([k]) => /^(TIMESCALEDB|CLICKHOUSE)_/.test(k));
  const schemaChecksum = sha256(JSON.stringify({ migrateTemplate, databaseSettings }));
  add(
    'Job',
    {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        ...meta(childName.migrate(name), 'migrate'),
        annotations: { [ANNOTATION.schemaChecksum]: schemaChecksum },
      },
      spec: {
        backoffLimit: MIGRATE_BACKOFF_LIMIT,
        activeDeadlineSeconds: MIGRATE_DEADLINE_SECONDS,
        template: migrateTemplate,
      },
    } satisfies V1Job,
    'migrate',
  );

  const podAnnotations = { [ANNOTATION.configChecksum]: checksum };
  add(
    'Deployment',
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta(childName.collector(name), 'collector'),
      spec: {
        // Exactly one, and never two at once: Polygon allows one connection per API key. A
        // relay (no key) waits at 0 until its source pipeline is there with its symbols.
        replicas: relay && !relaySource ? 0 : 1,
        strategy: { type: 'Recreate' },
        revisionHistoryLimit: 3,
        selector: { matchLabels: selectorLabels(name, 'collector') },
        template: template('collector', [relay ? 'relay' : 'collector'], true, {
          annotations: podAnnotations,
        }),
      },
    } satisfies V1Deployment,
    'collector',
  );
  add(
    'Deployment',
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta(childName.bridge(name), 'bridge'),
      spec: {
        replicas: spec.bridge.replicas,
        // Replicas share durable consumers, so old and new may overlap: no gap in writing.
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
        revisionHistoryLimit: 3,
        selector: { matchLabels: selectorLabels(name, 'bridge') },
        template: template('bridge', ['bridge'], true, { annotations: podAnnotations }),
      },
    } satisfies V1Deployment,
    'bridge',
    true,
  );

  for (const tf of spec.timeframes) {
    const timeframeLabel = { [LABEL.timeframe]: tf };
    const { startingDeadlineSeconds, activeDeadlineSeconds } = aggregatorDeadlines(tf);
    add(
      'CronJob',
      {
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        metadata: meta(childName.aggregator(name, tf), 'aggregator', timeframeLabel),
        spec: {
          schedule: TIMEFRAME_SCHEDULE[tf],
          // Bars are aligned in UTC whatever the controller manager's zone.
          timeZone: 'Etc/UTC',
          concurrencyPolicy: 'Forbid',
          startingDeadlineSeconds,
          successfulJobsHistoryLimit: 1,
          failedJobsHistoryLimit: 3,
          suspend: false,
          jobTemplate: {
            metadata: { labels: { ...componentLabels(name, 'aggregator'), ...timeframeLabel } },
            spec: {
              backoffLimit: CRON_JOB_BACKOFF_LIMIT,
              activeDeadlineSeconds,
              template: template('aggregator', ['aggregate', '--timeframe', tf], false, {
                extraLabels: timeframeLabel,
              }),
            },
          },
        },
      } satisfies V1CronJob,
      'aggregator',
      true,
    );
  }

  add(
    'CronJob',
    {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: meta(childName.backfill(name), 'backfill'),
      spec: {
        schedule: spec.backfill.schedule,
        timeZone: 'Etc/UTC',
        concurrencyPolicy: 'Forbid',
        startingDeadlineSeconds: 600,
        successfulJobsHistoryLimit: 1,
        failedJobsHistoryLimit: 3,
        suspend: spec.backfill.suspend || backfillWithoutKey(spec),
        jobTemplate: {
          metadata: { labels: componentLabels(name, 'backfill') },
          spec: {
            backoffLimit: CRON_JOB_BACKOFF_LIMIT,
            activeDeadlineSeconds: spec.backfill.activeDeadlineSeconds,
            template: template('backfill', ['backfill'], false),
          },
        },
      },
    } satisfies V1CronJob,
    'backfill',
    true,
  );

  const simulator = spec.source.simulator;
  if (simulator) {
    add(
      'Deployment',
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: meta(childName.simulator(name), 'simulator'),
        spec: {
          replicas: 1,
          strategy: { type: 'Recreate' },
          revisionHistoryLimit: 3,
          selector: { matchLabels: selectorLabels(name, 'simulator') },
          template: template('simulator', ['simulate'], true, {
            annotations: podAnnotations,
            extraPorts: [{ name: 'polygon', containerPort: simulator.port }],
          }),
        },
      } satisfies V1Deployment,
      'simulator',
    );
    add(
      'Service',
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: meta(childName.simulator(name), 'simulator'),
        spec: {
          selector: selectorLabels(name, 'simulator'),
          ports: [
            { name: 'polygon', port: simulator.port, targetPort: 'polygon', protocol: 'TCP' },
            { name: 'metrics', port: WORKLOAD_METRICS_PORT, targetPort: 'metrics', protocol: 'TCP' },
          ],
        },
      } satisfies V1Service,
      'simulator',
    );
  }

  return { objects, configChecksum: checksum, schemaChecksum };
}

/** Identity of an object within a namespace: kind and name. */
export function objectKey(kind: string, name: string): string {
  return `${kind}/${name}`;
}
