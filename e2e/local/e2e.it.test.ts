// The end-to-end scenario (e2e/scenario.ts) on the local test servers: the real operator
// binary, the real controllers of kube-controller-manager, the real workloads as processes
// (the process kubelet), a private NATS and this run's own PostgreSQL and ClickHouse
// databases. `make e2e` runs only this file; `make test` runs it with the rest.
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../workloads/src/runtime/logger.js';
import { ensureBuilt } from '../../test/support/built-cli.js';
import { createTestDatabases, type TestDatabases } from '../../test/support/databases.js';
import {
  createTestNamespace,
  deleteNamespace,
  installCrd,
  testKubeClient,
  waitFor,
} from '../../test/support/kube.js';
import { startPrivateNats, type PrivateNats } from '../../test/support/private-nats.js';
import { requireEnv } from '../../test/support/servers.js';
import type { KubeClient } from '../../operator/src/kube/client.js';
import { kubectl } from '../kubectl.js';
import { Scenario } from '../scenario.js';
import { LocalTarget } from './local-target.js';
import { startOperatorProcess, type OperatorProcess } from './operator-process.js';
import { ProcessKubelet } from './process-kubelet.js';

const root = process.cwd();
const log = createLogger('e2e-local', process.env.E2E_LOG_LEVEL ?? 'info');

let client: KubeClient | undefined;
let namespace: string | undefined;
let nats: PrivateNats | undefined;
let databases: TestDatabases | undefined;
let kubelet: ProcessKubelet | undefined;
let operator: OperatorProcess | undefined;
let target: LocalTarget | undefined;

const scenario = new Scenario(root, () => {
  if (!target) throw new Error('the local e2e environment did not start (see the beforeAll error)');
  return target;
});

beforeAll(async () => {
  await ensureBuilt();
  const kube = await testKubeClient();
  client = kube.client;
  await installCrd(client);
  namespace = await createTestNamespace(client, 'e2e');
  const logDir = path.join(os.tmpdir(), 'market-pipeline-e2e', namespace);
  log.info({ namespace, logDir }, 'local e2e environment');

  // The pipeline uses the product's fixed stream names: a NATS server of this run's own.
  nats = await startPrivateNats();
  databases = await createTestDatabases();
  kubelet = new ProcessKubelet({
    client,
    kubeConfig: kube.kubeConfig,
    namespace,
    labelSelector: scenario.podSelector,
    nodeName: `process-kubelet-${namespace}`,
    repoRoot: root,
    logDir,
    log,
  });
  await kubelet.start();
  operator = await startOperatorProcess({
    repoRoot: root,
    namespace,
    kubeconfig: requireEnv('Kubernetes API server', 'KUBECONFIG'),
    logDir,
  });
  const env = databases.env;
  target = new LocalTarget(
    kubectl(namespace),
    {
      natsUrl: nats.url,
      kafkaBrokers: process.env.KAFKA_BROKERS?.split(','),
      postgres: {
        host: env.TIMESCALEDB_HOST!,
        port: Number(env.TIMESCALEDB_PORT),
        database: databases.pgDatabase,
        user: env.TIMESCALEDB_USER!,
        password: env.TIMESCALEDB_PASSWORD!,
      },
      clickhouse: {
        url: `http://${env.CLICKHOUSE_HOST}:${env.CLICKHOUSE_PORT}`,
        database: databases.chDatabase,
        user: env.CLICKHOUSE_USER!,
        password: env.CLICKHOUSE_PASSWORD!,
      },
    },
    databases.pg,
    databases.ch,
    kubelet,
    operator,
    log,
    logDir,
  );
}, 120_000);

afterAll(async () => {
  // The operator first (it would recreate what is deleted); then the namespace, while the
  // process kubelet still runs to stop each pod's processes gracefully, as on a cluster;
  // whatever is left after the wait is killed with the kubelet.
  await operator?.stop();
  if (client && namespace) {
    await deleteNamespace(client, namespace);
    const c = client;
    const ns = namespace;
    await waitFor(
      'the pods to be gone',
      async () => (await c.list('Pod', { namespace: ns })).items.length === 0,
      {
        timeoutMs: 45_000,
      },
    ).catch((error: Error) => log.warn(error.message));
  }
  await kubelet?.stop();
  await databases?.drop();
  await nats?.close();
}, 120_000);

describe(`kind-free end-to-end run of examples/simulator.yaml (${scenario.name})`, () => {
  for (const step of scenario.steps) it(step.title, step.run, step.timeoutMs);
});
