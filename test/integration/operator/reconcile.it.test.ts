// The operator against the real control plane (kube-apiserver, etcd, kube-controller-manager):
// one operator instance in-process, watching this file's own namespace. No kubelet runs, so
// the tests stand in for it by patching pod status; the ReplicaSet, Deployment, Job and
// garbage-collector controllers are the real ones.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { loadConfig } from '../../../workloads/src/runtime/config.js';
import { createLogger } from '../../../workloads/src/runtime/logger.js';
import { operatorEnv } from '../../../operator/src/config.js';
import {
  specSchema,
  type Condition,
  type MarketPipeline,
  type MarketPipelineSpecInput,
} from '../../../operator/src/crd/spec.js';
import type { KubeClient } from '../../../operator/src/kube/client.js';
import type { KubeObject, Kind } from '../../../operator/src/kube/resources.js';
import { desiredState } from '../../../operator/src/render/desired.js';
import { ANNOTATION, LABEL } from '../../../operator/src/render/names.js';
import { startOperator, type OperatorInstance } from '../../../operator/src/run.js';
import { WORKLOAD_NODE_OPTIONS } from '../../../workloads/src/runtime/node-options.js';
import {
  contains,
  createTestNamespace,
  deleteNamespace,
  installCrd,
  markPodsReady,
  markPodsSucceeded,
  testKubeClient,
  TEST_FIELD_MANAGER,
  waitFor,
} from '../../support/kube.js';

// The project-level testTimeout does not reach tests in a multi-project jest config.
jest.setTimeout(120_000);

let client: KubeClient;
let namespace: string;
let operator: OperatorInstance;
const log = createLogger('operator-it', process.env.TEST_LOG_LEVEL ?? 'error');

const baseSpec: MarketPipelineSpecInput = {
  symbols: ['EUR/USD', 'XAU/USD'],
  timeframes: ['5m', '1h'],
  source: { simulator: { seed: 42 } },
  nats: { url: 'nats://nats:4222' },
  timescaledb: { host: 'timescaledb', passwordSecretRef: { name: 'timescaledb', key: 'password' } },
  clickhouse: { url: 'http://clickhouse:8123', passwordSecretRef: { name: 'clickhouse', key: 'password' } },
};

beforeAll(async () => {
  const kube = await testKubeClient();
  client = kube.client;
  await installCrd(client);
  namespace = await createTestNamespace(client, 'it-op');
  for (const name of ['timescaledb', 'clickhouse']) {
    await client.create('Secret', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, namespace },
      stringData: { password: 'test-password' },
    });
  }
  const config = loadConfig(operatorEnv, {
    WATCH_NAMESPACE: namespace,
    LEADER_ELECTION_NAMESPACE: namespace,
    SECRET_RECHECK_SECONDS: '2',
  });
  operator = await startOperator({ ...config, METRICS_PORT: 0 }, kube.kubeConfig, log);
});

afterAll(async () => {
  await operator?.stop();
  if (namespace) await deleteNamespace(client, namespace);
});

// --- helpers -------------------------------------------------------------------------------

async function createPipeline(
  name: string,
  spec: Partial<MarketPipelineSpecInput> = {},
): Promise<MarketPipeline> {
  return client.create('MarketPipeline', {
    apiVersion: 'marketdata.suho.io/v1alpha1',
    kind: 'MarketPipeline',
    metadata: { name, namespace },
    spec: { ...baseSpec, ...spec },
  }) as Promise<MarketPipeline>;
}

const getPipeline = async (name: string) =>
  (await client.get('MarketPipeline', namespace, name)) as unknown as MarketPipeline;
const get = <T extends KubeObject = KubeObject>(kind: Kind, name: string) =>
  client.get<T>(kind, namespace, name);

function patchSpec(name: string, spec: Record<string, unknown>) {
  return client.patch('MarketPipeline', namespace, name, { spec });
}

async function condition(name: string, type: string): Promise<Condition | undefined> {
  return (await getPipeline(name))?.status?.conditions?.find((c) => c.type === type);
}

function waitForCondition(name: string, type: string, status: string, reason?: string, timeoutMs = 30_000) {
  return waitFor(
    `${name} condition ${type}=${status}${reason ? ` (${reason})` : ''}`,
    async () => {
      const c = await condition(name, type);
      return c && c.status === status && (!reason || c.reason === reason) ? c : undefined;
    },
    { timeoutMs },
  );
}

/** Kubelet stand-in for the migrate Job: its pod runs and succeeds, the Job controller completes it. */
async function completeMigration(name: string) {
  const selector = `batch.kubernetes.io/job-name=${name}-migrate`;
  await waitFor(
    `a pod of Job ${name}-migrate`,
    async () => (await markPodsSucceeded(client, namespace, selector)) > 0,
  );
  await waitForCondition(name, 'SchemaReady', 'True', 'MigrationSucceeded');
}

/** Kubelet stand-in for the long-running pods (repeat after a rollout: new pods appear). */
async function readyPods(name: string) {
  return markPodsReady(
    client,
    namespace,
    `${LABEL.instance}=${name},${LABEL.component} in (collector,bridge,simulator)`,
  );
}

async function bringUp(name: string, spec: Partial<MarketPipelineSpecInput> = {}) {
  await createPipeline(name, spec);
  await completeMigration(name);
  await waitFor(`${name} Ready`, async () => {
    await readyPods(name);
    return (await condition(name, 'Ready'))?.status === 'True';
  });
}

async function events(name: string) {
  const list = await client.list<KubeObject & { reason: string; message: string; type: string }>('Event', {
    namespace,
    fieldSelector: `involvedObject.name=${name}`,
  });
  return list.items;
}

async function ownedObjects(name: string): Promise<string[]> {
  const kinds: Kind[] = ['ConfigMap', 'ServiceAccount', 'Service', 'Job', 'Deployment', 'CronJob'];
  const found: string[] = [];
  for (const kind of kinds) {
    const list = await client.list(kind, { namespace, labelSelector: `${LABEL.instance}=${name}` });
    found.push(
      ...list.items.filter((o) => !o.metadata.deletionTimestamp).map((o) => `${kind}/${o.metadata.name}`),
    );
  }
  return found.sort();
}

// --- tests ----------------------------------------------------------------------------------

describe('MarketPipeline operator against a real control plane', () => {
  it('creates every owned object with the right spec, labels and controller reference; schema first', async () => {
    const created = await createPipeline('full');

    // Before the migration: the Job, the collector and the shared objects, but no bridge/CronJobs.
    await waitFor('Job full-migrate', () => get('Job', 'full-migrate'));
    await waitForCondition('full', 'BridgeReady', 'False', 'WaitingForSchema');
    expect(await get('Deployment', 'full-bridge')).toBeUndefined();
    expect(await get('CronJob', 'full-aggregator-5m')).toBeUndefined();
    await waitForCondition('full', 'SchemaReady', 'False', 'MigrationRunning');

    await completeMigration('full');
    const pipeline = await getPipeline('full');
    const desired = desiredState({ ...pipeline, spec: specSchema.parse(pipeline.spec) });
    await waitFor(
      'every desired object',
      async () => (await ownedObjects('full')).length === desired.objects.length,
    );
    expect(await ownedObjects('full')).toEqual(
      desired.objects.map((d) => `${d.kind}/${d.object.metadata.name}`).sort(),
    );

    for (const d of desired.objects) {
      const live = await get(d.kind, d.object.metadata.name!);
      expect({ object: `${d.kind}/${d.object.metadata.name}`, matches: contains(live, d.object) }).toEqual({
        object: `${d.kind}/${d.object.metadata.name}`,
        matches: true,
      });
      expect(live!.metadata.ownerReferences).toEqual([
        {
          apiVersion: 'marketdata.suho.io/v1alpha1',
          kind: 'MarketPipeline',
          name: 'full',
          uid: created.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
      expect(live!.metadata.labels).toMatchObject({
        'app.kubernetes.io/name': 'market-pipeline',
        'app.kubernetes.io/instance': 'full',
        'app.kubernetes.io/managed-by': 'market-pipeline-operator',
      });
    }
    const created_ = (await events('full')).filter((e) => e.reason === 'Created').map((e) => e.message);
    expect(created_).toEqual(
      expect.arrayContaining(['Created Deployment full-collector', 'Created CronJob full-aggregator-5m']),
    );
  });

  it('converges the status to what the objects report', async () => {
    await bringUp('ready', { bridge: { replicas: 2 } });
    const pipeline = await getPipeline('ready');
    const status = pipeline.status!;
    expect(status.observedGeneration).toBe(pipeline.metadata.generation);
    expect(status.conditions!.map((c) => [c.type, c.status])).toEqual([
      ['Ready', 'True'],
      ['SchemaReady', 'True'],
      ['CollectorReady', 'True'],
      ['BridgeReady', 'True'],
      ['SimulatorReady', 'True'],
      ['AggregatorsScheduled', 'True'],
      ['BackfillScheduled', 'True'],
    ]);
    expect(status.collector).toEqual({ desired: 1, ready: 1, available: 1 });
    expect(status.bridge).toEqual({ desired: 2, ready: 2, available: 2 });
    // The CronJob controller's last runs are mirrored (a test stands in for a finished run).
    await client.patch(
      'CronJob',
      namespace,
      'ready-aggregator-5m',
      { status: { lastSuccessfulTime: '2024-05-01T10:05:09Z', lastScheduleTime: '2024-05-01T10:05:00Z' } },
      { subresource: 'status' },
    );
    await waitFor('the aggregator last run in the status', async () =>
      (await getPipeline('ready')).status?.aggregators?.find(
        (a) => a.timeframe === '5m' && a.lastSuccessfulTime === '2024-05-01T10:05:09Z',
      ),
    );

    // A pod of the bridge stops being ready: the condition and Ready say so.
    const readyAt = (await condition('ready', 'Ready'))!.lastTransitionTime;
    const [pod] = (
      await client.list('Pod', {
        namespace,
        labelSelector: `${LABEL.instance}=ready,${LABEL.component}=bridge`,
      })
    ).items;
    await client.patch(
      'Pod',
      namespace,
      pod!.metadata.name!,
      { status: { conditions: [{ type: 'Ready', status: 'False' }] } },
      { subresource: 'status' },
    );
    const bridge = await waitForCondition('ready', 'BridgeReady', 'False', 'Unavailable');
    expect(bridge.message).toBe('Deployment ready-bridge: 1/2 replicas available');
    const ready = await waitForCondition('ready', 'Ready', 'False', 'Unavailable');
    expect(ready.message).toContain('BridgeReady: Deployment ready-bridge: 1/2 replicas available');
    expect(ready.lastTransitionTime >= readyAt).toBe(true);
  });

  it('applies spec changes: ConfigMap updated, removed timeframes pruned, Deployments rolled', async () => {
    await bringUp('upd');
    const checksum = async () =>
      (await get<KubeObject & { spec: { template: { metadata: { annotations: Record<string, string> } } } }>(
        'Deployment',
        'upd-bridge',
      ))!.spec.template.metadata.annotations[ANNOTATION.configChecksum];
    const before = await checksum();
    const generation = (await getPipeline('upd')).metadata.generation!;

    await patchSpec('upd', {
      symbols: ['EUR/USD', 'XAU/USD', 'GBP/USD'],
      timeframes: ['5m'],
      bridge: { live: { batchSize: 50 } },
    });
    await waitFor(
      'CronJob upd-aggregator-1h pruned',
      async () => !(await get('CronJob', 'upd-aggregator-1h')),
    );
    expect(await get('CronJob', 'upd-aggregator-5m')).toBeDefined();
    const data = (await get<KubeObject & { data: Record<string, string> }>('ConfigMap', 'upd-config'))!.data;
    expect(data).toMatchObject({ SYMBOLS: 'EUR/USD,XAU/USD,GBP/USD', LIVE_BATCH_SIZE: '50' });
    await waitFor('a new bridge checksum', async () => (await checksum()) !== before);
    // The real Deployment controller rolls it out: a second ReplicaSet with the new template.
    await waitFor('a new bridge ReplicaSet', async () => {
      const sets = await client.list('ReplicaSet', {
        namespace,
        labelSelector: `${LABEL.instance}=upd,${LABEL.component}=bridge`,
      });
      return sets.items.length >= 2;
    });
    await waitFor(
      'the new generation observed',
      async () => (await getPipeline('upd')).status?.observedGeneration === generation + 1,
    );
    const pruned = (await events('upd')).find((e) => e.reason === 'Deleted');
    expect(pruned?.message).toBe('Deleted CronJob upd-aggregator-1h: the spec no longer asks for it');

    // Kafka in, then out: its settings come and go with it.
    await patchSpec('upd', { kafka: { brokers: ['kafka:9092'] } });
    await waitFor(
      'Kafka settings',
      async () =>
        (await get<KubeObject & { data: Record<string, string> }>('ConfigMap', 'upd-config'))!.data
          .KAFKA_BROKERS === 'kafka:9092',
    );
    await patchSpec('upd', { kafka: null });
    await waitFor('Kafka settings gone', async () => {
      const cm = await get<KubeObject & { data: Record<string, string> }>('ConfigMap', 'upd-config');
      return Object.keys(cm!.data).every((k) => !k.startsWith('KAFKA_'));
    });
  });

  it('switching simulator → polygon removes the simulator objects', async () => {
    await client.create('Secret', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'polygon', namespace },
      stringData: { apiKey: 'k' },
    });
    await bringUp('switch');
    expect(await get('Deployment', 'switch-simulator')).toBeDefined();
    await patchSpec('switch', {
      source: { simulator: null, polygon: { apiKeySecretRef: { name: 'polygon', key: 'apiKey' } } },
    });
    await waitFor(
      'simulator objects pruned',
      async () =>
        !(await get('Deployment', 'switch-simulator')) && !(await get('Service', 'switch-simulator')),
    );
    const cm = await get<KubeObject & { data: Record<string, string> }>('ConfigMap', 'switch-config');
    expect(cm!.data.POLYGON_WS_URL).toBe('wss://socket.massive.com/forex');
    expect(Object.keys(cm!.data).filter((k) => k.startsWith('SIMULATOR_'))).toEqual([]);
    const collector = await get<
      KubeObject & { spec: { template: { spec: { containers: { env: unknown[] }[] } } } }
    >('Deployment', 'switch-collector');
    expect(collector!.spec.template.spec.containers[0]!.env).toEqual([
      { name: 'NODE_OPTIONS', value: WORKLOAD_NODE_OPTIONS },
      { name: 'POLYGON_API_KEY', valueFrom: { secretKeyRef: { name: 'polygon', key: 'apiKey' } } },
    ]);
    expect(await condition('switch', 'SimulatorReady')).toBeUndefined();
  });

  it('recreates an object deleted by hand and restores fields it owns, keeping other managers’ fields', async () => {
    await bringUp('heal', { timeframes: ['5m'] });
    const oldUid = (await get('CronJob', 'heal-aggregator-5m'))!.metadata.uid;
    await client.delete('CronJob', namespace, 'heal-aggregator-5m');
    await client.delete('ConfigMap', namespace, 'heal-config');
    await waitFor('CronJob recreated', async () => {
      const cj = await get('CronJob', 'heal-aggregator-5m');
      return cj && cj.metadata.uid !== oldUid;
    });
    await waitFor('ConfigMap recreated', () => get('ConfigMap', 'heal-config'));

    // Someone else annotates and labels the collector (as `kubectl annotate` would) ...
    await client.apply(
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: {
          name: 'heal-collector',
          namespace,
          annotations: { 'example.com/owner': 'team-fx' },
          labels: { 'example.com/tier': 'gold' },
        },
      },
      { fieldManager: 'kubectl-annotate', force: false },
    );
    // ... and scales it to 3, a field the operator owns.
    await client.patch(
      'Deployment',
      namespace,
      'heal-collector',
      { spec: { replicas: 3 } },
      { fieldManager: TEST_FIELD_MANAGER },
    );
    await waitFor(
      'collector back to one replica',
      async () =>
        (await get<KubeObject & { spec: { replicas: number } }>('Deployment', 'heal-collector'))!.spec
          .replicas === 1,
    );
    // Another reconcile (a spec change re-applies everything): the foreign fields survive.
    await patchSpec('heal', { logLevel: 'debug' });
    await waitFor(
      'the new log level applied',
      async () =>
        (await get<KubeObject & { data: Record<string, string> }>('ConfigMap', 'heal-config'))!.data
          .LOG_LEVEL === 'debug',
    );
    const collector = (await get('Deployment', 'heal-collector'))!;
    expect(collector.metadata.annotations!['example.com/owner']).toBe('team-fx');
    expect(collector.metadata.labels!['example.com/tier']).toBe('gold');
    expect(collector.metadata.managedFields!.map((m) => m.manager)).toEqual(
      expect.arrayContaining(['market-pipeline-operator', 'kubectl-annotate']),
    );
  });

  it('a missing Secret: Ready=False with a clear reason and an Event; recovery when it appears', async () => {
    const secretName = 'polygon-late';
    await createPipeline('nokey', {
      source: { polygon: { apiKeySecretRef: { name: secretName, key: 'apiKey' } } },
    });
    const message = `Secret ${secretName} (key apiKey) referenced by spec.source.polygon.apiKeySecretRef does not exist`;
    const collectorCondition = await waitForCondition('nokey', 'CollectorReady', 'False', 'SecretMissing');
    expect(collectorCondition.message).toBe(message);
    const ready = await waitForCondition('nokey', 'Ready', 'False');
    expect(ready.message).toContain(message);
    await waitFor('a SecretMissing event', async () =>
      (await events('nokey')).find(
        (e) => e.reason === 'SecretMissing' && e.type === 'Warning' && e.message === message,
      ),
    );
    expect(await get('Deployment', 'nokey-collector')).toBeUndefined();

    await client.create('Secret', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: secretName, namespace },
      stringData: { apiKey: 'k' },
    });
    await waitFor(
      'the collector created once the Secret exists',
      () => get('Deployment', 'nokey-collector'),
      { timeoutMs: 20_000 },
    );
    await waitFor(
      'CollectorReady no longer blames the Secret',
      async () => (await condition('nokey', 'CollectorReady'))?.reason !== 'SecretMissing',
    );
  });

  it('two Secrets holding one Polygon key: PolygonKeyExclusive=False on both, naming the other', async () => {
    for (const name of ['polygon-one', 'polygon-two']) {
      await client.create('Secret', {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name, namespace },
        stringData: { apiKey: name === 'polygon-one' ? 'same-key' : 'same-key\n' },
      });
    }
    await createPipeline('keyone', {
      source: { polygon: { apiKeySecretRef: { name: 'polygon-one', key: 'apiKey' } } },
    });
    await createPipeline('keytwo', {
      source: { polygon: { apiKeySecretRef: { name: 'polygon-two', key: 'apiKey' } } },
    });
    // keytwo's first reconcile already sees keyone; keyone's next one (any change) sees keytwo.
    const two = await waitForCondition('keytwo', 'PolygonKeyExclusive', 'False', 'PolygonKeyShared');
    expect(two.message).toMatch(/^MarketPipeline keyone also uses the Polygon key in Secret polygon-two/);
    expect(two.message).not.toContain('same-key');
    await patchSpec('keyone', { timeframes: ['5m'] });
    await waitForCondition('keyone', 'PolygonKeyExclusive', 'False', 'PolygonKeyShared');
  });

  it('a relay: RelaySourceReady names a missing source or symbol; runs once the source has them', async () => {
    await createPipeline('relay', {
      symbols: ['EUR/USD', 'USD/JPY'],
      tenantId: 'globex',
      source: { relay: { pipeline: 'collect' } },
    });
    const missing = await waitForCondition('relay', 'RelaySourceReady', 'False', 'SourceNotFound');
    expect(missing.message).toContain(
      `MarketPipeline ${namespace}/collect (spec.source.relay) does not exist`,
    );
    const waiting = await waitFor('the relay collector, at 0 replicas', () =>
      get<
        KubeObject & { spec: { replicas: number; template: { spec: { containers: { args: string[] }[] } } } }
      >('Deployment', 'relay-collector'),
    );
    expect(waiting.spec.replicas).toBe(0);
    expect(waiting.spec.template.spec.containers[0]!.args).toEqual(['relay']);
    await waitFor('a SourceNotFound event', async () =>
      (await events('relay')).find((e) => e.reason === 'SourceNotFound' && e.type === 'Warning'),
    );

    // The source appears without USD/JPY: still refused, naming the symbol.
    await createPipeline('collect', { symbols: ['EUR/USD'], tenantId: 'acme' });
    const lacking = await waitForCondition('relay', 'RelaySourceReady', 'False', 'SymbolsNotInSource');
    expect(lacking.message).toMatch(/does not collect USD\/JPY/);
    // The source gets the symbol: the relay runs, with the source's pipeline id and tenant.
    await patchSpec('collect', { symbols: ['EUR/USD', 'USD/JPY'] });
    await waitForCondition('relay', 'RelaySourceReady', 'True', 'SourceReady');
    await waitFor('the relay collector at 1 replica', async () => {
      const d = await get<KubeObject & { spec: { replicas: number } }>('Deployment', 'relay-collector');
      return d?.spec.replicas === 1;
    });
    const config = await get<KubeObject & { data: Record<string, string> }>('ConfigMap', 'relay-config');
    expect(config!.data).toMatchObject({
      RELAY_SOURCE_PIPELINE_ID: `${namespace}_collect`,
      RELAY_SOURCE_TENANT_ID: 'acme',
      TENANT_ID: 'globex',
    });
  });

  it('deleting the MarketPipeline lets the garbage collector remove every owned object', async () => {
    await createPipeline('gone', { timeframes: ['5m'] });
    await completeMigration('gone');
    await waitFor('owned objects', async () => (await ownedObjects('gone')).length >= 9);
    await client.delete('MarketPipeline', namespace, 'gone');
    await waitFor('every owned object gone', async () => (await ownedObjects('gone')).length === 0, {
      timeoutMs: 60_000,
    });
  });

  it('serves controller-runtime metrics and health', async () => {
    const base = `http://127.0.0.1:${operator.ops.port}`;
    const metrics = await (await fetch(`${base}/metrics`)).text();
    const sample = (line: RegExp) =>
      Number(
        metrics
          .split('\n')
          .find((l) => line.test(l))
          ?.split(' ')
          .at(-1) ?? NaN,
      );
    expect(
      sample(/^controller_runtime_reconcile_total\{.*controller="marketpipeline".*result="success"/),
    ).toBeGreaterThan(0);
    expect(sample(/^workqueue_adds_total\{.*name="marketpipeline"/)).toBeGreaterThan(0);
    expect(metrics).toMatch(/^controller_runtime_reconcile_time_seconds_bucket\{/m);
    expect(metrics).toMatch(/^workqueue_depth\{/m);
    expect(sample(/^leader_election_master_status\{/)).toBe(1);
    // One Ready series per MarketPipeline of the cache, 1 exactly when its Ready condition is True
    // (retried: a status write may land between the scrape and the list).
    await waitFor('market_pipeline_operator_pipeline_ready to match the pipelines', async () => {
      const scraped = await (await fetch(`${base}/metrics`)).text();
      const series = new Map(
        [
          ...scraped.matchAll(
            /^market_pipeline_operator_pipeline_ready\{namespace="([^"]+)",pipeline="([^"]+)"[^}]*\} (\d)/gm,
          ),
        ]
          .filter((m) => m[1] === namespace)
          .map((m) => [m[2]!, Number(m[3])]),
      );
      const pipelines = await client.list<
        KubeObject & { status?: { conditions?: { type: string; status: string }[] } }
      >('MarketPipeline', { namespace });
      const expected = new Map(
        pipelines.items.map((p) => [
          p.metadata.name!,
          p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? 1 : 0,
        ]),
      );
      return expected.size > 0 && JSON.stringify([...series].sort()) === JSON.stringify([...expected].sort())
        ? true
        : undefined;
    });
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });
});
