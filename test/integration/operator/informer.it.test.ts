// Watch resilience and namespace scoping against the real API server.
// - client-node's ListWatch stops for good on a connection error; our Informer must restart it
//   and catch up with what changed while the API server was unreachable. A TCP proxy in front
//   of the API server stands in for the network going away and coming back.
// - a watch with nothing to report for longer than client-node 2.x's 30 s inactivity
//   timeout goes on delivering events, without a reported failure.
// - WATCH_NAMESPACE with a list: pipelines in those namespaces are reconciled, others ignored.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import net from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { loadConfig } from '../../../workloads/src/runtime/config.js';
import { createLogger } from '../../../workloads/src/runtime/logger.js';
import { operatorEnv } from '../../../operator/src/config.js';
import { KubeClient } from '../../../operator/src/kube/client.js';
import { Informer } from '../../../operator/src/kube/informer.js';
import type { KubeObject } from '../../../operator/src/kube/resources.js';
import { startOperator } from '../../../operator/src/run.js';
import {
  createTestNamespace,
  deleteNamespace,
  installCrd,
  testKubeClient,
  waitFor,
} from '../../support/kube.js';
import { freePort } from '../../support/private-nats.js';

// The project-level testTimeout does not reach tests in a multi-project jest config.
jest.setTimeout(120_000);

const log = createLogger('informer-it', process.env.TEST_LOG_LEVEL ?? 'error');
let client: KubeClient;
let kubeConfig: KubeConfig;
const namespaces: string[] = [];

beforeAll(async () => {
  ({ client, kubeConfig } = await testKubeClient());
  await installCrd(client);
});

afterAll(async () => {
  for (const ns of namespaces) await deleteNamespace(client, ns);
});

/** A TCP proxy to the API server that can be cut (every connection dropped) and restored. */
async function apiServerProxy(target: URL) {
  const port = await freePort();
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  const up = () =>
    new Promise<void>((resolve) => {
      server = net.createServer((inbound) => {
        const outbound = net.connect(Number(target.port), target.hostname);
        for (const s of [inbound, outbound]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => undefined);
        }
        inbound.pipe(outbound).pipe(inbound);
      });
      server.listen(port, '127.0.0.1', resolve);
    });
  const down = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server!.close(() => resolve());
    });
  await up();
  return { port, up, down };
}

function configMap(namespace: string, name: string) {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace, labels: { probe: 'yes' } },
    data: {},
  };
}

describe('informer', () => {
  it('restarts after the API server was unreachable and catches up with what changed meanwhile', async () => {
    const namespace = await createTestNamespace(client, 'it-inf');
    namespaces.push(namespace);
    const proxy = await apiServerProxy(new URL(kubeConfig.getCurrentCluster()!.server));
    const viaProxy = new KubeConfig();
    viaProxy.loadFromString(kubeConfig.exportConfig());
    const cluster = viaProxy.clusters[0]!;
    viaProxy.clusters[0] = { ...cluster, server: `https://127.0.0.1:${proxy.port}` };
    const informer = new Informer<KubeObject>(
      new KubeClient(viaProxy),
      viaProxy,
      { kind: 'ConfigMap', namespaces: [namespace], labelSelector: 'probe=yes' },
      log,
    );
    const seen: string[] = [];
    informer.on((obj, event) => seen.push(`${event} ${obj.metadata.name}`));
    try {
      await client.create('ConfigMap', configMap(namespace, 'before'));
      await informer.start();
      expect(informer.synced).toBe(true);
      expect(informer.list(namespace).map((c) => c.metadata.name)).toEqual(['before']);

      await proxy.down();
      await client.create('ConfigMap', configMap(namespace, 'while-down'));
      await client.delete('ConfigMap', namespace, 'before');
      // Long enough for the watch to notice and fail at least one reconnect.
      await new Promise((r) => setTimeout(r, 1500));
      await proxy.up();

      await waitFor(
        'the informer to catch up',
        () => {
          const names = informer.list(namespace).map((c) => c.metadata.name);
          return names.length === 1 && names[0] === 'while-down';
        },
        { timeoutMs: 60_000 },
      );
      expect(seen).toEqual(expect.arrayContaining(['change before', 'change while-down', 'delete before']));
      // And it keeps watching.
      await client.create('ConfigMap', configMap(namespace, 'after'));
      await waitFor('a new object after recovery', () => informer.get(namespace, 'after'));
    } finally {
      await informer.stop();
      await proxy.down();
    }
  });
});

describe('informer on a quiet resource', () => {
  it('still delivers events after more than 30 s without any, and reports no failure meanwhile', async () => {
    // client-node 2.x's Watch aborts a watch that receives nothing for 30 s (TimeoutError);
    // its ListWatch then reconnects from the last resourceVersion. Nothing must be lost or
    // reported as a failed watch across such a quiet period.
    const namespace = await createTestNamespace(client, 'it-quiet');
    namespaces.push(namespace);
    const warnings: unknown[] = [];
    const recording = Object.create(log, {
      warn: { value: (...args: unknown[]) => warnings.push(args) },
    }) as typeof log;
    const informer = new Informer<KubeObject>(
      new KubeClient(kubeConfig),
      kubeConfig,
      { kind: 'ConfigMap', namespaces: [namespace], labelSelector: 'probe=yes' },
      recording,
    );
    const seen: string[] = [];
    informer.on((obj, event) => seen.push(`${event} ${obj.metadata.name}`));
    try {
      await informer.start();
      await new Promise((r) => setTimeout(r, 40_000));
      await client.create('ConfigMap', configMap(namespace, 'after-quiet'));
      await waitFor(
        'the object created after the quiet period',
        () => informer.get(namespace, 'after-quiet'),
        {
          timeoutMs: 10_000,
        },
      );
      expect(seen).toEqual(['change after-quiet']);
      expect(warnings).toEqual([]);
    } finally {
      await informer.stop();
    }
  });
});

describe('WATCH_NAMESPACE with a list', () => {
  it('reconciles MarketPipelines in the listed namespaces only', async () => {
    const [a, b, other] = [
      await createTestNamespace(client, 'it-wa'),
      await createTestNamespace(client, 'it-wb'),
      await createTestNamespace(client, 'it-wo'),
    ];
    namespaces.push(a, b, other);
    const config = loadConfig(operatorEnv, { WATCH_NAMESPACE: `${a},${b}`, LEADER_ELECTION: 'false' });
    const operator = await startOperator({ ...config, METRICS_PORT: 0 }, kubeConfig, log);
    try {
      for (const ns of [a, b, other]) {
        await client.create('MarketPipeline', {
          apiVersion: 'marketdata.suho.io/v1alpha1',
          kind: 'MarketPipeline',
          metadata: { name: 'scoped', namespace: ns },
          spec: {
            symbols: ['EUR/USD'],
            timeframes: ['5m'],
            source: { simulator: {} },
            nats: { url: 'nats://nats:4222' },
            timescaledb: { host: 'db', passwordSecretRef: { name: 'timescaledb', key: 'password' } },
            clickhouse: { url: 'http://ch:8123' },
          },
        });
      }
      for (const ns of [a, b]) {
        await waitFor(`scoped-config in ${ns}`, () => client.get('ConfigMap', ns, 'scoped-config'));
      }
      // The third namespace's pipeline was created before the others were handled: had it
      // been watched, it would be reconciled by now too.
      expect(await client.get('ConfigMap', other, 'scoped-config')).toBeUndefined();
      expect(
        (await client.get<KubeObject & { status?: unknown }>('MarketPipeline', other, 'scoped'))!.status,
      ).toBeUndefined();
    } finally {
      await operator.stop();
    }
  });
});
