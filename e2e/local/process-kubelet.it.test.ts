// The process kubelet on its own, against the test API server and the real controllers: it
// must report what a kubelet would, or the end-to-end run could pass where a cluster fails.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../workloads/src/runtime/logger.js';
import { ensureBuilt } from '../../test/support/built-cli.js';
import { createTestNamespace, deleteNamespace, testKubeClient, waitFor } from '../../test/support/kube.js';
import type { KubeClient } from '../../operator/src/kube/client.js';
import type { KubeObject } from '../../operator/src/kube/resources.js';
import { ProcessKubelet } from './process-kubelet.js';

const INSTANCE = 'harness-test';
const labels = { 'app.kubernetes.io/instance': INSTANCE };
const log = createLogger('process-kubelet-it', process.env.E2E_LOG_LEVEL ?? 'warn');

let client: KubeClient;
let namespace: string;
let kubelet: ProcessKubelet;

interface PodJson extends KubeObject {
  spec: { nodeName?: string };
  status?: {
    phase?: string;
    containerStatuses?: { state: { waiting?: { reason: string; message?: string } }; ready: boolean }[];
  };
}

beforeAll(async () => {
  await ensureBuilt();
  const kube = await testKubeClient();
  client = kube.client;
  namespace = await createTestNamespace(client, 'pk');
  kubelet = new ProcessKubelet({
    client,
    kubeConfig: kube.kubeConfig,
    namespace,
    labelSelector: `app.kubernetes.io/instance=${INSTANCE}`,
    nodeName: `process-kubelet-${namespace}`,
    repoRoot: process.cwd(),
    logDir: path.join(os.tmpdir(), 'market-pipeline-e2e', namespace),
    log,
  });
  await kubelet.start();
});

afterAll(async () => {
  await kubelet?.stop();
  if (namespace) await deleteNamespace(client, namespace);
});

const pods = async (selector: string) =>
  (await client.list<PodJson>('Pod', { namespace, labelSelector: selector })).items;

describe('process kubelet', () => {
  it('refuses a missing ConfigMap key as CreateContainerConfigError, on the pod and as a failure', async () => {
    await client.create('ConfigMap', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'settings', namespace },
      data: { SYMBOLS: 'EUR/USD' },
    });
    await client.create('Pod', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'misconfigured', namespace, labels: { ...labels, case: 'config' } },
      spec: {
        containers: [
          {
            name: 'simulator',
            image: 'market-pipeline',
            command: ['market-pipeline'],
            args: ['simulate'],
            env: [{ name: 'SYMBOLS', valueFrom: { configMapKeyRef: { name: 'settings', key: 'SYMBOL' } } }],
          },
        ],
      },
    });
    const [pod] = await waitFor('the pod to report CreateContainerConfigError', async () => {
      const found = await pods('case=config');
      return found[0]?.status?.containerStatuses?.[0]?.state.waiting?.reason === 'CreateContainerConfigError'
        ? found
        : undefined;
    });
    expect(pod!.spec.nodeName).toBe(`process-kubelet-${namespace}`);
    expect(pod!.status!.containerStatuses![0]!.state.waiting!.message).toBe(
      `couldn't find key SYMBOL in ConfigMap ${namespace}/settings`,
    );
    expect(kubelet.failures).toContainEqual(
      expect.objectContaining({
        pod: 'misconfigured',
        message: expect.stringContaining('CreateContainerConfigError'),
      }),
    );
  });

  it("fails a Job whose process exits non-zero, with the process's output", async () => {
    await client.create('Job', {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'bad-args', namespace },
      spec: {
        backoffLimit: 0,
        template: {
          metadata: { labels: { ...labels, case: 'job' } },
          spec: {
            restartPolicy: 'Never',
            containers: [
              {
                name: 'aggregator',
                image: 'market-pipeline',
                command: ['market-pipeline'],
                args: ['aggregate', '--timeframe', '7m'],
              },
            ],
          },
        },
      },
    });
    await waitFor('the Job controller to mark the Job Failed', async () => {
      const job = await client.get<
        KubeObject & { status?: { conditions?: { type: string; status: string }[] } }
      >('Job', namespace, 'bad-args');
      return job?.status?.conditions?.some((c) => c.type === 'Failed' && c.status === 'True');
    });
    const failure = kubelet.failures.find((f) => f.pod.startsWith('bad-args-'));
    expect(failure?.message).toBe('exited with code 2');
    expect(failure?.output).toContain("unknown timeframe '7m'");
  });

  it('makes a Deployment Available through its readiness probe on a mapped port, and stops its process on deletion', async () => {
    await client.create('Deployment', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'simulator', namespace },
      spec: {
        replicas: 1,
        selector: { matchLabels: { ...labels, case: 'deployment' } },
        template: {
          metadata: { labels: { ...labels, case: 'deployment' } },
          spec: {
            terminationGracePeriodSeconds: 10,
            containers: [
              {
                name: 'simulator',
                image: 'market-pipeline',
                command: ['market-pipeline'],
                args: ['simulate'],
                env: [
                  { name: 'METRICS_PORT', value: '9464' },
                  { name: 'SIMULATOR_PORT', value: '8765' },
                ],
                ports: [
                  { name: 'metrics', containerPort: 9464 },
                  { name: 'polygon', containerPort: 8765 },
                ],
                readinessProbe: { httpGet: { path: '/readyz', port: 'metrics' }, periodSeconds: 1 },
              },
            ],
          },
        },
      },
    });
    await waitFor(
      'the Deployment to become Available',
      async () => {
        const d = await client.get<KubeObject & { status?: { availableReplicas?: number } }>(
          'Deployment',
          namespace,
          'simulator',
        );
        return d?.status?.availableReplicas === 1;
      },
      { timeoutMs: 60_000 },
    );
    await client.delete('Deployment', namespace, 'simulator');
    await waitFor('the garbage collector and the kubelet to remove the pod', async () => {
      return (await pods('case=deployment')).length === 0;
    });
    expect(kubelet.failures.filter((f) => f.pod.startsWith('simulator-'))).toEqual([]);
  });
});
