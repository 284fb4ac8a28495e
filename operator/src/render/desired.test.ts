import { describe, expect, it } from '@jest/globals';
import type { V1CronJob, V1Deployment, V1Job, V1PodTemplateSpec, V1Service } from '@kubernetes/client-node';
import { TIMEFRAME_MS, TIMEFRAME_SCHEDULE, TIMEFRAMES } from '../../../workloads/src/contracts/timeframes.js';
import { makePipeline, polygonSource } from '../../test/support/pipelines.js';
import { aggregatorDeadlines, desiredState, type DesiredState } from './desired.js';
import { ANNOTATION, LABEL, MANAGED_BY } from './names.js';
import { WORKLOAD_NODE_OPTIONS } from '../../../workloads/src/runtime/node-options.js';

function find<T>(state: DesiredState, kind: string, name: string): T {
  const found = state.objects.find((d) => d.kind === kind && d.object.metadata.name === name);
  if (!found)
    throw new Error(
      `no ${kind} ${name} in ${state.objects.map((d) => `${d.kind}/${d.object.metadata.name}`)}`,
    );
  return found.object as T;
}

function templates(state: DesiredState): [string, V1PodTemplateSpec][] {
  return state.objects.flatMap((d) => {
    const spec = d.object.spec as
      { template?: V1PodTemplateSpec; jobTemplate?: { spec: { template: V1PodTemplateSpec } } } | undefined;
    const t = spec?.template ?? spec?.jobTemplate?.spec.template;
    return t ? [[`${d.kind}/${d.object.metadata.name}`, t] as [string, V1PodTemplateSpec]] : [];
  });
}

const names = (state: DesiredState) => state.objects.map((d) => `${d.kind}/${d.object.metadata.name}`).sort();

describe('desired state of a MarketPipeline', () => {
  it('owns exactly the objects ARCHITECTURE.md lists (simulator source)', () => {
    expect(names(desiredState(makePipeline()))).toEqual(
      [
        'ConfigMap/fx-config',
        'ServiceAccount/fx',
        'Service/fx-metrics',
        'Job/fx-migrate',
        'Deployment/fx-collector',
        'Deployment/fx-bridge',
        ...TIMEFRAMES.map((tf) => `CronJob/fx-aggregator-${tf}`),
        'CronJob/fx-backfill',
        'Deployment/fx-simulator',
        'Service/fx-simulator',
      ].sort(),
    );
  });

  it('has no simulator objects with the polygon source, and one CronJob per listed timeframe', () => {
    const state = desiredState(makePipeline({ source: polygonSource, timeframes: ['1h', '5m'] }));
    expect(names(state)).toEqual(
      [
        'ConfigMap/fx-config',
        'ServiceAccount/fx',
        'Service/fx-metrics',
        'Job/fx-migrate',
        'Deployment/fx-collector',
        'Deployment/fx-bridge',
        'CronJob/fx-aggregator-1h',
        'CronJob/fx-aggregator-5m',
        'CronJob/fx-backfill',
      ].sort(),
    );
  });

  it('labels every object and makes the MarketPipeline its controller', () => {
    const state = desiredState(makePipeline());
    for (const d of state.objects) {
      const { labels, ownerReferences, namespace } = d.object.metadata;
      expect(namespace).toBe('markets');
      expect(labels).toMatchObject({
        [LABEL.name]: 'market-pipeline',
        [LABEL.instance]: 'fx',
        [LABEL.managedBy]: MANAGED_BY,
      });
      if (d.component !== 'shared') expect(labels![LABEL.component]).toBe(d.component);
      expect(ownerReferences).toEqual([
        {
          apiVersion: 'marketdata.suho.io/v1alpha1',
          kind: 'MarketPipeline',
          name: 'fx',
          uid: 'uid-fx',
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
    }
  });

  it('runs exactly one collector, never two at once, and the bridge replicas of the spec', () => {
    const state = desiredState(makePipeline({ bridge: { replicas: 3 } }));
    const collector = find<V1Deployment>(state, 'Deployment', 'fx-collector');
    expect(collector.spec!.replicas).toBe(1);
    expect(collector.spec!.strategy).toEqual({ type: 'Recreate' });
    const bridge = find<V1Deployment>(state, 'Deployment', 'fx-bridge');
    expect(bridge.spec!.replicas).toBe(3);
    expect(bridge.spec!.strategy!.type).toBe('RollingUpdate');
    for (const dep of [collector, bridge]) {
      expect(dep.spec!.selector.matchLabels).toEqual(
        Object.fromEntries(
          Object.entries(dep.spec!.template.metadata!.labels!).filter(([k]) =>
            [LABEL.name, LABEL.instance, LABEL.component].includes(k as never),
          ),
        ),
      );
    }
  });

  it('hardens every pod: non-root, read-only root with a /tmp emptyDir, no capabilities, RuntimeDefault seccomp', () => {
    for (const [where, t] of templates(desiredState(makePipeline()))) {
      const pod = t.spec!;
      expect({ where, ctx: pod.securityContext }).toMatchObject({
        where,
        ctx: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
      });
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(pod.enableServiceLinks).toBe(false);
      expect(pod.serviceAccountName).toBe('fx');
      expect(pod.volumes).toEqual([{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }]);
      for (const c of pod.containers) {
        expect({ where, sc: c.securityContext }).toEqual({
          where,
          sc: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            runAsNonRoot: true,
            capabilities: { drop: ['ALL'] },
          },
        });
        expect(c.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
        expect(c.resources!.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
        expect(c.resources!.limits!.memory).toEqual(expect.any(String));
      }
    }
  });

  it('starts each component with the image entry point and its command', () => {
    const state = desiredState(
      makePipeline({ timeframes: ['5m', '1w'], image: { repository: 'registry.local/mp', tag: '1.2.3' } }),
    );
    const commandLine = Object.fromEntries(
      templates(state).map(([where, t]) => [
        where,
        [...t.spec!.containers[0]!.command!, ...t.spec!.containers[0]!.args!],
      ]),
    );
    expect(commandLine).toEqual({
      'Job/fx-migrate': ['market-pipeline', 'migrate'],
      'Deployment/fx-collector': ['market-pipeline', 'collector'],
      'Deployment/fx-bridge': ['market-pipeline', 'bridge'],
      'CronJob/fx-aggregator-5m': ['market-pipeline', 'aggregate', '--timeframe', '5m'],
      'CronJob/fx-aggregator-1w': ['market-pipeline', 'aggregate', '--timeframe', '1w'],
      'CronJob/fx-backfill': ['market-pipeline', 'backfill'],
      'Deployment/fx-simulator': ['market-pipeline', 'simulate'],
    });
    for (const [, t] of templates(state)) {
      expect(t.spec!.containers[0]!.image).toBe('registry.local/mp:1.2.3');
      expect(t.spec!.containers[0]!.envFrom).toEqual([{ configMapRef: { name: 'fx-config' } }]);
    }
  });

  it('probes /healthz and /readyz on the metrics port of long-running pods only', () => {
    for (const [where, t] of templates(desiredState(makePipeline()))) {
      const c = t.spec!.containers[0]!;
      if (where.startsWith('Deployment/')) {
        expect(c.ports).toContainEqual({ name: 'metrics', containerPort: 9464, protocol: 'TCP' });
        expect(c.readinessProbe!.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
        expect(c.livenessProbe!.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
        expect(t.spec!.restartPolicy).toBe('Always');
        expect(t.metadata!.labels![LABEL.metrics]).toBe('true');
      } else {
        expect(c.readinessProbe).toBeUndefined();
        expect(c.livenessProbe).toBeUndefined();
        expect(t.spec!.restartPolicy).toBe('Never');
        expect(t.metadata!.labels![LABEL.metrics]).toBeUndefined();
      }
    }
  });

  it('schedules each aggregator on the seed schedule with Forbid, history limits and deadlines below the period', () => {
    const state = desiredState(makePipeline());
    for (const tf of TIMEFRAMES) {
      const cj = find<V1CronJob>(state, 'CronJob', `fx-aggregator-${tf}`);
      const { startingDeadlineSeconds, activeDeadlineSeconds } = aggregatorDeadlines(tf);
      expect(cj.spec).toMatchObject({
        schedule: TIMEFRAME_SCHEDULE[tf],
        timeZone: 'Etc/UTC',
        concurrencyPolicy: 'Forbid',
        successfulJobsHistoryLimit: 1,
        failedJobsHistoryLimit: 3,
        startingDeadlineSeconds,
        suspend: false,
      });
      expect(cj.spec!.jobTemplate.spec!.activeDeadlineSeconds).toBe(activeDeadlineSeconds);
      expect(activeDeadlineSeconds * 1000).toBeLessThan(TIMEFRAME_MS[tf]);
      expect(startingDeadlineSeconds * 1000).toBeLessThan(TIMEFRAME_MS[tf]);
      expect(cj.metadata!.labels![LABEL.timeframe]).toBe(tf);
      expect(cj.spec!.jobTemplate.metadata!.labels).toMatchObject({
        [LABEL.component]: 'aggregator',
        [LABEL.timeframe]: tf,
      });
    }
    expect(aggregatorDeadlines('5m')).toEqual({ startingDeadlineSeconds: 150, activeDeadlineSeconds: 240 });
    expect(aggregatorDeadlines('1w')).toEqual({ startingDeadlineSeconds: 3600, activeDeadlineSeconds: 3600 });
  });

  it('schedules backfill from the spec', () => {
    const cj = find<V1CronJob>(
      desiredState(
        makePipeline({ backfill: { schedule: '0 3 * * *', suspend: true, activeDeadlineSeconds: 600 } }),
      ),
      'CronJob',
      'fx-backfill',
    );
    expect(cj.spec).toMatchObject({ schedule: '0 3 * * *', suspend: true, concurrencyPolicy: 'Forbid' });
    expect(cj.spec!.jobTemplate.spec!.activeDeadlineSeconds).toBe(600);
  });

  it('references Secrets by key and never copies them', () => {
    const pipeline = makePipeline({ source: polygonSource });
    const state = desiredState(pipeline);
    const env = (name: string, kind = 'Deployment') =>
      Object.fromEntries(
        (templates(state).find(([w]) => w === `${kind}/${name}`)![1].spec!.containers[0]!.env ?? [])
          // Every container has the workloads' node flags (runtime/node-options.ts); not a secret.
          .filter((e) => e.name !== 'NODE_OPTIONS')
          .map((e) => [e.name, e.valueFrom?.secretKeyRef ?? e.value]),
      );
    expect(env('fx-collector')).toEqual({ POLYGON_API_KEY: { name: 'polygon', key: 'apiKey' } });
    expect(env('fx-bridge')).toEqual({
      TIMESCALEDB_PASSWORD: { name: 'timescaledb', key: 'password' },
      CLICKHOUSE_PASSWORD: { name: 'clickhouse', key: 'password' },
    });
    expect(env('fx-backfill', 'CronJob')).toEqual({
      TIMESCALEDB_PASSWORD: { name: 'timescaledb', key: 'password' },
      CLICKHOUSE_PASSWORD: { name: 'clickhouse', key: 'password' },
      POLYGON_API_KEY: { name: 'polygon', key: 'apiKey' },
    });
    const data = find<{ data: Record<string, string> }>(state, 'ConfigMap', 'fx-config').data;
    expect(Object.keys(data).filter((k) => /PASSWORD|API_KEY|SECRET|TOKEN/.test(k))).toEqual([]);
    // Which Secret each object waits for, with the spec field that names it.
    expect(state.objects.find((d) => d.component === 'collector')!.secrets).toEqual([
      {
        env: 'POLYGON_API_KEY',
        ref: { name: 'polygon', key: 'apiKey' },
        field: 'spec.source.polygon.apiKeySecretRef',
      },
    ]);
  });

  it('gives the simulator and the collector it feeds the same placeholder key, and the simulator address', () => {
    const state = desiredState(
      makePipeline({ source: { simulator: { port: 9000, quotesPerSecond: 20, seed: 1 } } }),
    );
    const collectorEnv = templates(state).find(([w]) => w === 'Deployment/fx-collector')![1].spec!
      .containers[0]!.env;
    expect(collectorEnv).toEqual([
      { name: 'NODE_OPTIONS', value: WORKLOAD_NODE_OPTIONS },
      { name: 'POLYGON_API_KEY', value: 'simulator' },
    ]);
    // The simulator accepts exactly one key: it must be the one the collector sends.
    const simulatorEnv = templates(state).find(([w]) => w === 'Deployment/fx-simulator')![1].spec!
      .containers[0]!.env;
    expect(simulatorEnv).toEqual(collectorEnv);
    expect(find<{ data: Record<string, string> }>(state, 'ConfigMap', 'fx-config').data).toMatchObject({
      POLYGON_WS_URL: 'ws://fx-simulator:9000/forex',
      POLYGON_REST_URL: 'http://fx-simulator:9000',
      POLYGON_REST_REQUESTS_PER_MINUTE: '600',
      SIMULATOR_PORT: '9000',
      SIMULATOR_QUOTES_PER_SECOND: '20',
      SIMULATOR_SEED: '1',
    });
    const svc = find<V1Service>(state, 'Service', 'fx-simulator');
    expect(svc.spec!.ports).toContainEqual({
      name: 'polygon',
      port: 9000,
      targetPort: 'polygon',
      protocol: 'TCP',
    });
    expect(svc.spec!.selector).toEqual({
      [LABEL.name]: 'market-pipeline',
      [LABEL.instance]: 'fx',
      [LABEL.component]: 'simulator',
    });
  });

  it('exposes metrics through a headless Service selecting the long-running pods', () => {
    const svc = find<V1Service>(desiredState(makePipeline()), 'Service', 'fx-metrics');
    expect(svc.spec).toEqual({
      clusterIP: 'None',
      selector: { [LABEL.instance]: 'fx', [LABEL.name]: 'market-pipeline', [LABEL.metrics]: 'true' },
      ports: [{ name: 'metrics', port: 9464, targetPort: 'metrics', protocol: 'TCP' }],
    });
  });

  it('takes resources from the spec over the defaults, raising a default limit below a request', () => {
    const state = desiredState(
      makePipeline({
        bridge: { resources: { requests: { memory: '1Gi' }, limits: { cpu: '2' } } },
        collector: { resources: { limits: { memory: '300Mi' } } },
      }),
    );
    const res = (name: string) =>
      templates(state).find(([w]) => w === `Deployment/${name}`)![1].spec!.containers[0]!.resources;
    expect(res('fx-bridge')).toEqual({
      requests: { cpu: '100m', memory: '1Gi' },
      limits: { memory: '1Gi', cpu: '2' },
    });
    expect(res('fx-collector')).toEqual({
      requests: { cpu: '50m', memory: '128Mi' },
      limits: { memory: '300Mi' },
    });
  });

  it('marks what waits for the schema: the bridge, aggregators and backfill, not the collector', () => {
    const waits = desiredState(makePipeline())
      .objects.filter((d) => d.needsSchema)
      .map((d) => `${d.kind}/${d.object.metadata.name}`);
    expect(waits).toEqual([
      'Deployment/fx-bridge',
      ...TIMEFRAMES.map((tf) => `CronJob/fx-aggregator-${tf}`),
      'CronJob/fx-backfill',
    ]);
  });

  it('rolls the Deployments when settings change, not when only replicas do', () => {
    const checksumOf = (state: DesiredState) =>
      find<V1Deployment>(state, 'Deployment', 'fx-bridge').spec!.template.metadata!.annotations![
        ANNOTATION.configChecksum
      ];
    const base = desiredState(makePipeline());
    expect(checksumOf(base)).toBe(base.configChecksum);
    expect(checksumOf(desiredState(makePipeline({ bridge: { replicas: 4 } })))).toBe(base.configChecksum);
    for (const changed of [
      { bridge: { live: { batchSize: 500 } } },
      { symbols: ['EUR/USD'] },
      { kafka: { brokers: ['kafka:9092'] } },
      {
        timescaledb: { host: 'timescaledb', passwordSecretRef: { name: 'other', key: 'password' } },
      },
    ]) {
      expect(checksumOf(desiredState(makePipeline(changed)))).not.toBe(base.configChecksum);
    }
    for (const name of ['fx-collector', 'fx-simulator']) {
      expect(
        find<V1Deployment>(base, 'Deployment', name).spec!.template.metadata!.annotations![
          ANNOTATION.configChecksum
        ],
      ).toBe(base.configChecksum);
    }
  });

  it('replaces the migrate Job when the image or database settings change, not for other settings', () => {
    const base = desiredState(makePipeline());
    const job = find<V1Job>(base, 'Job', 'fx-migrate');
    expect(job.metadata!.annotations![ANNOTATION.schemaChecksum]).toBe(base.schemaChecksum);
    expect(job.spec).toMatchObject({ backoffLimit: 4, activeDeadlineSeconds: 900 });
    expect(desiredState(makePipeline({ symbols: ['GBP/USD'] })).schemaChecksum).toBe(base.schemaChecksum);
    expect(desiredState(makePipeline({ image: { tag: '0.2.0' } })).schemaChecksum).not.toBe(
      base.schemaChecksum,
    );
    expect(
      desiredState(
        makePipeline({
          timescaledb: {
            host: 'timescaledb',
            passwordSecretRef: { name: 'timescaledb', key: 'password' },
            retentionDays: 30,
          },
        }),
      ).schemaChecksum,
    ).not.toBe(base.schemaChecksum);
  });

  it('is a pure function: same input, same output; the input untouched', () => {
    const pipeline = makePipeline({ kafka: { brokers: ['k:9092'] }, pipSizes: { 'XAU/USD': 0.01 } });
    const copy = structuredClone(pipeline);
    expect(desiredState(pipeline)).toEqual(desiredState(copy));
    expect(pipeline).toEqual(copy);
  });

  it('keeps every name within Kubernetes limits for the longest allowed pipeline name', () => {
    const longest = 'a'.repeat(37);
    for (const d of desiredState(makePipeline({}, longest)).objects) {
      const limit = d.kind === 'CronJob' ? 52 : d.kind === 'Service' ? 63 : 253;
      expect(d.object.metadata.name!.length).toBeLessThanOrEqual(limit);
    }
  });

  it('passes image pull secrets and pull policy to every pod', () => {
    const state = desiredState(
      makePipeline({ image: { pullPolicy: 'Always', pullSecrets: [{ name: 'regcred' }] } }),
    );
    for (const [, t] of templates(state)) {
      expect(t.spec!.imagePullSecrets).toEqual([{ name: 'regcred' }]);
      expect(t.spec!.containers[0]!.imagePullPolicy).toBe('Always');
    }
  });
});
