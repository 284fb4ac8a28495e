// The chart against the real tools and the real API server: helm lint, helm template with
// every ci/ values file, every rendered object validated and admitted by kube-apiserver
// (server-side dry run), the restricted Pod Security Standard, and values.schema.json.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { createControllerMetrics } from '../../operator/src/controller/metrics.js';
import type { KubeClient } from '../../operator/src/kube/client.js';
import type { KubeObject } from '../../operator/src/kube/resources.js';
import { createRegistry, startOpsServer } from '../../workloads/src/runtime/ops-server.js';
import { runTool, tool } from '../support/cli-tools.js';
import {
  createTestNamespace,
  deleteNamespace,
  testKubeClient,
  waitFor,
  TEST_FIELD_MANAGER,
} from '../support/kube.js';
import { CHART, manifests, renderChart, serverDryRun, type Manifest } from './helm-chart.js';

const MONITORING_CRDS = [
  ['servicemonitors.monitoring.coreos.com', 'test/packaging/fixtures/servicemonitor-crd.yaml'],
  ['prometheusrules.monitoring.coreos.com', 'test/packaging/fixtures/prometheusrule-crd.yaml'],
] as const;

let client: KubeClient;
let namespace: string;
let watchA: string;
let watchB: string;
let restricted: string;

/**
 * The ServiceMonitor and PrometheusRule CRDs, so the chart's ServiceMonitors and rules are
 * validated too. Installed only when absent (a real prometheus-operator CRD is used as is)
 * and left in place: other test files may be applying such objects at the same time, and
 * deleting a CRD deletes its objects.
 */
async function ensureMonitoringCrds(): Promise<void> {
  for (const [name, fixture] of MONITORING_CRDS) {
    const existing = await client.get('CustomResourceDefinition', undefined, name);
    if (!existing) {
      const crd = parse(readFileSync(fixture, 'utf8')) as KubeObject;
      await client.apply(crd, { fieldManager: TEST_FIELD_MANAGER, force: true });
    }
    await waitFor(`the ${name} CRD to be Established`, async () => {
      const live = await client.get<
        KubeObject & { status?: { conditions?: { type: string; status: string }[] } }
      >('CustomResourceDefinition', undefined, name);
      return live?.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
    });
  }
}

beforeAll(async () => {
  ({ client } = await testKubeClient());
  await ensureMonitoringCrds();
  [namespace, watchA, watchB] = await Promise.all([
    createTestNamespace(client, 'chart'),
    createTestNamespace(client, 'chart-a'),
    createTestNamespace(client, 'chart-b'),
  ]);
  restricted = await createTestNamespace(client, 'chart-pss');
  await client.patch('Namespace', undefined, restricted, {
    metadata: { labels: { 'pod-security.kubernetes.io/warn': 'restricted' } },
  });
});

afterAll(async () => {
  if (!client) return;
  await Promise.all(
    [namespace, watchA, watchB, restricted].filter(Boolean).map((ns) => deleteNamespace(client, ns)),
  );
});

const byKind = (objects: Manifest[], kind: string) => objects.filter((o) => o.kind === kind);
const names = (objects: Manifest[]) =>
  objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`);

function operatorEnv(objects: Manifest[]): Record<string, string | undefined> {
  const deployment = objects.find(
    (o) => o.kind === 'Deployment' && o.metadata.labels?.['app.kubernetes.io/component'] === 'operator',
  ) as
    | (Manifest & {
        spec: { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } };
      })
    | undefined;
  if (!deployment) throw new Error('no operator Deployment rendered');
  return Object.fromEntries(deployment.spec.template.spec.containers[0]!.env.map((e) => [e.name, e.value]));
}

describe('helm lint', () => {
  it.each([
    [undefined],
    ['cluster-wide-values.yaml'],
    ['namespaced-values.yaml'],
    ['dev-values.yaml'],
    ['monitoring-values.yaml'],
  ])('passes --strict with %s', async (values) => {
    const result = await runTool('helm', [
      'lint',
      '--strict',
      CHART,
      ...(values ? ['--values', path.join(CHART, 'ci', values)] : []),
    ]);
    expect({ code: result.code, output: result.stdout + result.stderr }).toEqual({
      code: 0,
      output: expect.stringContaining('1 chart(s) linted, 0 chart(s) failed'),
    });
  });
});

describe('rendered manifests pass a server-side dry run', () => {
  /** Renders, applies with a dry run, and returns the objects; every one must be accepted. */
  async function renderAndAdmit(options: Parameters<typeof renderChart>[2]): Promise<Manifest[]> {
    const yaml = await renderChart('mp', namespace, options);
    const objects = manifests(yaml);
    const result = await serverDryRun(yaml);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    const admitted = result.stdout
      .split('\n')
      .filter((l) => l.endsWith('serverside-applied (server dry run)'));
    expect(admitted).toHaveLength(objects.length);
    return objects;
  }

  it('default values: cluster-wide RBAC, the CRD, the operator and its metrics Service', async () => {
    const objects = await renderAndAdmit({});
    expect(names(objects).sort()).toEqual(
      [
        `ClusterRole//mp-market-pipeline`,
        `ClusterRole//mp-market-pipeline-edit`,
        `ClusterRole//mp-market-pipeline-view`,
        `ClusterRoleBinding//mp-market-pipeline`,
        `CustomResourceDefinition//marketpipelines.marketdata.suho.io`,
        `Deployment/${namespace}/mp-market-pipeline`,
        `Pod/${namespace}/mp-market-pipeline-test-serving`,
        `Role/${namespace}/mp-market-pipeline-leader-election`,
        `RoleBinding/${namespace}/mp-market-pipeline-leader-election`,
        `Service/${namespace}/mp-market-pipeline-metrics`,
        `ServiceAccount/${namespace}/mp-market-pipeline`,
      ].sort(),
    );
    expect(operatorEnv(objects)).toMatchObject({
      WATCH_NAMESPACE: '',
      LEADER_ELECTION: 'true',
      LEADER_ELECTION_ID: 'mp-market-pipeline',
      LEADER_ELECTION_NAMESPACE: namespace,
      WORKLOAD_IMAGE_REPOSITORY: 'ghcr.io/suho/market-pipeline-workloads',
      WORKLOAD_IMAGE_TAG: '0.1.0',
    });
    expect(operatorEnv(objects)).not.toHaveProperty('WORKLOAD_IMAGE_DIGEST');
    // One replica: no PodDisruptionBudget (it would block every drain).
    expect(byKind(objects, 'PodDisruptionBudget')).toEqual([]);
  });

  it('ci/cluster-wide-values.yaml: a PodDisruptionBudget, topology spread and digests', async () => {
    const objects = await renderAndAdmit({ values: ['cluster-wide-values.yaml'] });
    const selector = {
      'app.kubernetes.io/name': 'market-pipeline',
      'app.kubernetes.io/instance': 'mp',
      'app.kubernetes.io/component': 'operator',
    };
    expect(byKind(objects, 'Deployment')[0]).toMatchObject({
      spec: {
        replicas: 2,
        revisionHistoryLimit: 3,
        template: {
          spec: {
            containers: [{ image: `ghcr.io/suho/market-pipeline-operator@sha256:${'1'.repeat(64)}` }],
            topologySpreadConstraints: [
              {
                maxSkew: 1,
                topologyKey: 'kubernetes.io/hostname',
                whenUnsatisfiable: 'ScheduleAnyway',
                labelSelector: { matchLabels: selector },
              },
            ],
          },
        },
      },
    });
    expect(byKind(objects, 'PodDisruptionBudget')).toEqual([
      expect.objectContaining({ spec: { minAvailable: 1, selector: { matchLabels: selector } } }),
    ]);
    expect(operatorEnv(objects)).toMatchObject({
      WORKLOAD_IMAGE_TAG: '0.1.0',
      WORKLOAD_IMAGE_DIGEST: `sha256:${'2'.repeat(64)}`,
    });
    // The operator's ClusterRole and the two aggregated into view and edit/admin.
    expect(byKind(objects, 'ClusterRole')).toHaveLength(3);
    // The helm test pod runs the operator image too, pinned the same way.
    expect(byKind(objects, 'Pod')[0]).toMatchObject({
      metadata: { annotations: { 'helm.sh/hook': 'test' } },
      spec: { containers: [{ image: `ghcr.io/suho/market-pipeline-operator@sha256:${'1'.repeat(64)}` }] },
    });
  });

  it('podDisruptionBudget.maxUnavailable instead of minAvailable; a spread constraint keeps its own selector', async () => {
    const objects = await renderAndAdmit({
      set: [
        'replicaCount=3',
        'podDisruptionBudget.maxUnavailable=1',
        'topologySpreadConstraints[0].maxSkew=2',
        'topologySpreadConstraints[0].topologyKey=topology.kubernetes.io/zone',
        'topologySpreadConstraints[0].whenUnsatisfiable=DoNotSchedule',
        'topologySpreadConstraints[0].labelSelector.matchExpressions[0].key=team',
        'topologySpreadConstraints[0].labelSelector.matchExpressions[0].operator=Exists',
      ],
    });
    expect(byKind(objects, 'PodDisruptionBudget')[0]).toMatchObject({ spec: { maxUnavailable: 1 } });
    expect(byKind(objects, 'PodDisruptionBudget')[0]!.spec).not.toHaveProperty('minAvailable');
    const [spread] = (
      byKind(objects, 'Deployment')[0] as Manifest & {
        spec: { template: { spec: { topologySpreadConstraints: { labelSelector: object }[] } } };
      }
    ).spec.template.spec.topologySpreadConstraints;
    expect(spread!.labelSelector).not.toHaveProperty('matchLabels');
    expect(byKind(objects, 'Deployment')[0]).toMatchObject({
      spec: {
        template: {
          spec: {
            // Taken as given: no matchLabels added to the user's own selector.
            topologySpreadConstraints: [
              { maxSkew: 2, labelSelector: { matchExpressions: [{ key: 'team', operator: 'Exists' }] } },
            ],
          },
        },
      },
    });
    const none = manifests(
      await renderChart('mp', namespace, { set: ['replicaCount=2', 'podDisruptionBudget.enabled=false'] }),
    );
    expect(byKind(none, 'PodDisruptionBudget')).toEqual([]);
  });

  it('ci/namespaced-values.yaml: a Role per watched namespace and nothing cluster-scoped', async () => {
    const objects = await renderAndAdmit({
      values: ['namespaced-values.yaml'],
      set: [`watchNamespaces={${watchA},${watchB}}`],
    });
    const clusterScoped = objects.filter((o) => o.metadata.namespace === undefined);
    expect(names(clusterScoped)).toEqual([]);
    expect(names(byKind(objects, 'Role')).sort()).toEqual(
      [
        `Role/${namespace}/mp-market-pipeline-leader-election`,
        `Role/${watchA}/mp-market-pipeline`,
        `Role/${watchB}/mp-market-pipeline`,
      ].sort(),
    );
    expect(byKind(objects, 'RoleBinding')).toHaveLength(3);
    expect(operatorEnv(objects).WATCH_NAMESPACE).toBe(`${watchA},${watchB}`);
  });

  it('namespaced without watchNamespaces: the release namespace', async () => {
    const objects = await renderAndAdmit({ set: ['rbac.clusterWide=false', 'crds.install=false'] });
    expect(names(byKind(objects, 'Role')).sort()).toEqual(
      [`Role/${namespace}/mp-market-pipeline`, `Role/${namespace}/mp-market-pipeline-leader-election`].sort(),
    );
    expect(operatorEnv(objects).WATCH_NAMESPACE).toBe(namespace);
  });

  it('ci/dev-values.yaml: the dev servers under the Service and Secret names the examples use', async () => {
    const objects = await renderAndAdmit({ values: ['dev-values.yaml'] });
    expect(
      byKind(objects, 'Service')
        .map((s) => s.metadata.name)
        .sort(),
    ).toEqual(
      ['clickhouse', 'dragonfly', 'kafka', 'mp-market-pipeline-metrics', 'nats', 'timescaledb'].sort(),
    );
    const secrets = byKind(objects, 'Secret') as (Manifest & { data: Record<string, string> })[];
    expect(secrets.map((s) => [s.metadata.name, Object.keys(s.data)])).toEqual(
      expect.arrayContaining([
        ['timescaledb', ['password']],
        ['clickhouse', ['password']],
        ['dragonfly', ['password']],
      ]),
    );
    const timescale = secrets.find((s) => s.metadata.name === 'timescaledb')!;
    expect(Buffer.from(timescale.data.password!, 'base64').toString()).toBe('dev-password');
    expect(byKind(objects, 'ConfigMap')[0]!.metadata.labels).toMatchObject({ grafana_dashboard: '1' });
    // What the examples reference, server by server.
    const examples = ['simulator', 'polygon', 'kafka', 'cache'].map((f) =>
      readFileSync(path.join('examples', `${f}.yaml`), 'utf8'),
    );
    for (const text of examples) {
      for (const host of text.matchAll(/(?:nats:\/\/|http:\/\/|host: |brokers: \[')([a-z0-9-]+)/g)) {
        expect(byKind(objects, 'Service').map((s) => s.metadata.name)).toContain(host[1]);
      }
      for (const ref of text.matchAll(/SecretRef: \{ name: (\w+), key: (\w+) \}/g)) {
        if (ref[1] === 'polygon') continue; // the user's own API key
        expect(secrets.find((s) => s.metadata.name === ref[1])?.data).toHaveProperty(ref[2]!);
      }
    }
  });

  it('ci/monitoring-values.yaml: ServiceMonitors for the operator and the pipelines, and the alerts', async () => {
    const objects = await renderAndAdmit({ values: ['monitoring-values.yaml'] });
    expect(
      byKind(objects, 'ServiceMonitor')
        .map((s) => s.metadata.name)
        .sort(),
    ).toEqual(['mp-market-pipeline', 'mp-market-pipeline-pipelines']);
    const [rule] = byKind(objects, 'PrometheusRule');
    expect(rule?.metadata).toMatchObject({
      name: 'mp-market-pipeline',
      labels: { release: 'kube-prometheus-stack' },
    });
  });

  it('the CRD is crds/ with the chart labels and, unless crds.keep=false, the keep policy', async () => {
    const file = parse(readFileSync('crds/marketpipelines.marketdata.suho.io.yaml', 'utf8')) as Manifest;
    const kept = byKind(manifests(await renderChart('mp', namespace)), 'CustomResourceDefinition');
    expect(kept).toHaveLength(1);
    expect(kept[0]!.spec).toEqual(file.spec);
    expect(kept[0]!.metadata.annotations).toEqual({ 'helm.sh/resource-policy': 'keep' });
    expect(kept[0]!.metadata.labels).toMatchObject({
      ...file.metadata.labels,
      'app.kubernetes.io/managed-by': 'Helm',
    });
    const notKept = byKind(
      manifests(await renderChart('mp', namespace, { set: ['crds.keep=false'] })),
      'CustomResourceDefinition',
    );
    expect(notKept[0]!.metadata.annotations).toBeUndefined();
    const none = byKind(
      manifests(await renderChart('mp', namespace, { set: ['crds.install=false'] })),
      'CustomResourceDefinition',
    );
    expect(none).toEqual([]);
  });
});

describe('Pod Security', () => {
  it('the operator pod meets the restricted standard (and the check does see violations)', async () => {
    const yaml = await renderChart('mp', restricted, {
      values: ['dev-values.yaml'],
      set: ['crds.install=false'],
    });
    const objects = manifests(yaml);
    const operator = objects.filter(
      (o) =>
        (o.kind === 'Deployment' && o.metadata.name === 'mp-market-pipeline') ||
        (o.kind === 'Pod' && o.metadata.name === 'mp-market-pipeline-test-serving'),
    );
    expect(operator).toHaveLength(2);
    const timescale = objects.filter((o) => o.kind === 'Deployment' && o.metadata.name === 'timescaledb');
    // The dev cache runs restricted too (non-root, no capabilities, read-only root).
    const dragonfly = objects.filter((o) => o.kind === 'Deployment' && o.metadata.name === 'dragonfly');
    expect(dragonfly).toHaveLength(1);
    const asYaml = (list: Manifest[]) => list.map((o) => JSON.stringify(o)).join('\n---\n');

    const clean = await serverDryRun(asYaml([...operator, ...dragonfly]));
    expect({ code: clean.code, stderr: clean.stderr }).toEqual({ code: 0, stderr: '' });
    // Positive control: the dev TimescaleDB runs as its image's root entry point, which
    // the namespace's warn=restricted label reports.
    const warned = await serverDryRun(asYaml(timescale));
    expect(warned.code).toBe(0);
    expect(warned.stderr).toContain('would violate PodSecurity "restricted:latest"');
  });
});

describe('values.schema.json', () => {
  async function templateFails(args: string[]): Promise<string> {
    const result = await runTool('helm', ['template', 'mp', CHART, ...args]);
    expect(result.code).not.toBe(0);
    return result.stderr;
  }

  it('rejects a wrong type, naming the field', async () => {
    expect(await templateFails(['--set', 'replicaCount=two'])).toMatch(
      /at '\/replicaCount': got string, want integer/,
    );
    expect(await templateFails(['--set-string', 'rbac.clusterWide=yes'])).toMatch(
      /at '\/rbac\/clusterWide': got string, want boolean/,
    );
    expect(await templateFails(['--set', 'dev.kafka.image.pullPolicy=Sometimes'])).toMatch(
      /\/dev\/kafka\/image\/pullPolicy/,
    );
    expect(await templateFails(['--set', 'watchNamespaces={Not_A_Namespace}'])).toMatch(
      /\/watchNamespaces\/0/,
    );
    expect(await templateFails(['--set', 'image.digest=sha256:abc'])).toMatch(/\/image\/digest/);
    expect(await templateFails(['--set', 'workloadImage.digest=0.2.0'])).toMatch(/\/workloadImage\/digest/);
    expect(await templateFails(['--set', 'podDisruptionBudget.minAvailable=half'])).toMatch(
      /\/podDisruptionBudget\/minAvailable/,
    );
  });

  it('rejects unknown keys at the top level and inside known objects', async () => {
    expect(await templateFails(['--set', 'replicas=2'])).toMatch(
      /additional properties 'replicas' not allowed/,
    );
    expect(await templateFails(['--set', 'rbac.namespaced=true'])).toMatch(
      /additional properties 'namespaced' not allowed/,
    );
  });

  it('refuses watchNamespaces with cluster-wide RBAC', async () => {
    expect(await templateFails(['--set', 'watchNamespaces={a}'])).toContain(
      'watchNamespaces applies to rbac.clusterWide=false only',
    );
  });

  it('accepts the defaults and every ci/ file (lint above), and renders them', async () => {
    await expect(tool('helm', ['template', 'mp', CHART])).resolves.toContain('kind: Deployment');
  });
});

describe('the helm test hook', () => {
  /** Runs the hook pod's own script with this machine's Node.js (the operator image's runtime). */
  async function runHook(url: string): Promise<{ code: number | null; output: string }> {
    const objects = manifests(await renderChart('mp', namespace));
    const pod = byKind(objects, 'Pod')[0] as Manifest & {
      spec: { containers: { command: string[]; args: string[]; env: { name: string; value: string }[] }[] };
    };
    const [container] = pod.spec.containers;
    expect(container!.command).toEqual(['node', '-e']);
    expect(container!.env).toEqual([
      { name: 'OPERATOR_URL', value: `http://mp-market-pipeline-metrics.${namespace}.svc:8080` },
    ]);
    const child = spawn(process.execPath, ['-e', container!.args[0]!], {
      env: { ...process.env, OPERATOR_URL: url },
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const [code] = (await once(child, 'close')) as [number | null];
    return { code, output };
  }

  it("passes against a serving operator's ops server and fails when it is not ready or absent", async () => {
    // The operator's ops server as run.ts builds it: its registry, metrics and readiness.
    const registry = createRegistry('market-pipeline-operator');
    createControllerMetrics(registry).leader.set({ name: 'mp-market-pipeline' }, 1);
    const ops = await startOpsServer(registry, 0);
    let synced = true;
    ops.addReadinessCheck({ name: 'informers', check: () => (synced ? undefined : 'caches not synced yet') });
    try {
      const url = `http://127.0.0.1:${ops.port}`;
      expect(await runHook(url)).toEqual({ code: 0, output: `operator serving at ${url}\n` });
      synced = false;
      const notReady = await runHook(url);
      expect(notReady.code).toBe(1);
      expect(notReady.output).toContain('/readyz: HTTP 503');
    } finally {
      await ops.close();
    }
    const absent = await runHook(`http://127.0.0.1:${ops.port}`);
    expect(absent.code).toBe(1);
    expect(absent.output).toContain('operator not serving');
  });
});
