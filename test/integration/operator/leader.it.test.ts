// Leader election between operator instances (in-process, each with its own client, lease
// candidate and metrics) on the real API server's Lease. Shorter timings than the defaults
// (6 s lease / 4 s renew deadline / 1 s retry) keep the crash case quick; the logic is the same.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { KubeConfig } from '@kubernetes/client-node';
import { loadConfig } from '../../../workloads/src/runtime/config.js';
import { createLogger } from '../../../workloads/src/runtime/logger.js';
import { operatorEnv, type OperatorConfig } from '../../../operator/src/config.js';
import type { KubeClient } from '../../../operator/src/kube/client.js';
import type { KubeObject } from '../../../operator/src/kube/resources.js';
import { startOperator, type OperatorInstance } from '../../../operator/src/run.js';
import {
  createTestNamespace,
  deleteNamespace,
  installCrd,
  testKubeClient,
  waitFor,
} from '../../support/kube.js';

// The project-level testTimeout does not reach tests in a multi-project jest config.
jest.setTimeout(120_000);

const LEASE_MS = 6_000;
const RETRY_MS = 1_000;

let client: KubeClient;
let kubeConfig: KubeConfig;
let namespace: string;
let config: OperatorConfig;
const instances: OperatorInstance[] = [];
const log = createLogger('leader-it', process.env.TEST_LOG_LEVEL ?? 'error');

beforeAll(async () => {
  ({ client, kubeConfig } = await testKubeClient());
  await installCrd(client);
  namespace = await createTestNamespace(client, 'it-leader');
  for (const name of ['timescaledb', 'clickhouse']) {
    await client.create('Secret', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, namespace },
      stringData: { password: 'p' },
    });
  }
  config = {
    ...loadConfig(operatorEnv, {
      WATCH_NAMESPACE: namespace,
      LEADER_ELECTION_NAMESPACE: namespace,
      LEADER_ELECTION_LEASE_DURATION_SECONDS: String(LEASE_MS / 1000),
      LEADER_ELECTION_RENEW_DEADLINE_SECONDS: '4',
      LEADER_ELECTION_RETRY_PERIOD_SECONDS: String(RETRY_MS / 1000),
    }),
    METRICS_PORT: 0,
  };
});

afterAll(async () => {
  for (const i of instances) await i.abandon().catch(() => undefined);
  if (namespace) await deleteNamespace(client, namespace);
});

async function start(name: string): Promise<OperatorInstance> {
  const instance = await startOperator(
    { ...config, POD_NAME: name },
    kubeConfig,
    log.child({ instance: name }),
  );
  instances.push(instance);
  return instance;
}

async function reconciles(instance: OperatorInstance): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${instance.ops.port}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('controller_runtime_reconcile_total{'))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

const readyz = async (i: OperatorInstance) => (await fetch(`http://127.0.0.1:${i.ops.port}/readyz`)).status;

async function leaseHolder(): Promise<string | undefined> {
  const lease = await client.get<KubeObject & { spec: { holderIdentity?: string } }>(
    'Lease',
    namespace,
    config.LEADER_ELECTION_ID,
  );
  return lease?.spec.holderIdentity;
}

async function configMapData(name: string) {
  return (await client.get<KubeObject & { data: Record<string, string> }>('ConfigMap', namespace, name))
    ?.data;
}

function createPipeline(name: string) {
  return client.create('MarketPipeline', {
    apiVersion: 'marketdata.suho.io/v1alpha1',
    kind: 'MarketPipeline',
    metadata: { name, namespace },
    spec: {
      symbols: ['EUR/USD'],
      timeframes: ['5m'],
      source: { simulator: {} },
      nats: { url: 'nats://nats:4222' },
      timescaledb: { host: 'db', passwordSecretRef: { name: 'timescaledb', key: 'password' } },
      clickhouse: { url: 'http://ch:8123', passwordSecretRef: { name: 'clickhouse', key: 'password' } },
    },
  });
}

describe('leader election between operator instances', () => {
  let b: OperatorInstance;

  it('only the leader reconciles; a graceful stop hands over at once', async () => {
    const a = await start('a');
    await waitFor('a to lead', () => a.isLeader);
    b = await start('b');
    // Record any moment at which both would lead.
    let overlap = false;
    const sampler = setInterval(() => {
      if (a.isLeader && b.isLeader) overlap = true;
    }, 20);

    await createPipeline('one');
    await waitFor('one-config from the leader', () => configMapData('one-config'));
    expect(await leaseHolder()).toBe(a.identity);
    expect(b.isLeader).toBe(false);
    // The ConfigMap appears mid-reconcile; the counter moves when the reconcile ends.
    await waitFor('a to count its reconcile', async () => (await reconciles(a)) > 0);
    expect(await reconciles(b)).toBe(0);
    // Both are ready: the leader with synced caches, the standby by standing by.
    expect(await readyz(a)).toBe(200);
    expect(await readyz(b)).toBe(200);

    const stoppedAt = Date.now();
    await a.stop(); // SIGTERM path: stop reconciling, release the lease
    await waitFor('b to lead', () => b.isLeader, { timeoutMs: LEASE_MS });
    const handoverMs = Date.now() - stoppedAt;
    clearInterval(sampler);
    expect(overlap).toBe(false);
    expect(await leaseHolder()).toBe(b.identity);
    // Released, so b did not wait for the lease to expire.
    expect(handoverMs).toBeLessThan(LEASE_MS);
    log.info({ handoverMs }, 'graceful handover');

    // The new leader reconciles.
    await client.patch('MarketPipeline', namespace, 'one', { spec: { symbols: ['EUR/USD', 'USD/JPY'] } });
    await waitFor(
      'the change applied by b',
      async () => (await configMapData('one-config'))?.SYMBOLS === 'EUR/USD,USD/JPY',
    );
    // As for a above: the ConfigMap changes mid-reconcile, the counter when it ends.
    await waitFor('b to count its reconcile', async () => (await reconciles(b)) > 0);
  });

  it('a crashed leader (lease not released) is replaced within the lease duration', async () => {
    const c = await start('c');
    // Let c observe the lease being renewed by b: its own clock starts there.
    await new Promise((r) => setTimeout(r, 2 * RETRY_MS));
    expect(c.isLeader).toBe(false);
    const crashedAt = Date.now();
    await b.abandon();
    await waitFor('c to lead', () => c.isLeader, { timeoutMs: 3 * LEASE_MS });
    const takeoverMs = Date.now() - crashedAt;
    log.info({ takeoverMs }, 'takeover after a crash');
    // c times the lease from when it saw the last renewal (its poll after the renewal, up to
    // one jittered retry later) and takes over at its first poll after a lease duration: so
    // not before the lease could have expired, and at most two retries after.
    expect(takeoverMs).toBeGreaterThanOrEqual(LEASE_MS - RETRY_MS - 500);
    expect(takeoverMs).toBeLessThanOrEqual(LEASE_MS + 2 * 2.2 * RETRY_MS + 500);
    expect(await leaseHolder()).toBe(c.identity);

    // c reconciles: an owned object deleted by hand comes back.
    await client.delete('ConfigMap', namespace, 'one-config');
    await waitFor('one-config recreated by c', () => configMapData('one-config'));
    await c.stop();
  });
});
