// Helpers for tests against the real Kubernetes API server of the test environment
// (kube-apiserver + etcd + kube-controller-manager, no kubelet). Where a kubelet would
// report pod state, stand-ins patch pod status so the real controllers (ReplicaSet,
// Deployment, Job) compute the rest exactly as on a cluster.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { HttpMethod, KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { CRD_FILE, CRD_NAME } from '../../operator/src/crd/generate.js';
import { KubeClient } from '../../operator/src/kube/client.js';
import type { KubeObject } from '../../operator/src/kube/resources.js';
import { reach, requireEnv, uniqueSuffix } from './servers.js';
import { rfc3339 } from '../../operator/src/kube/time.js';

export const TEST_FIELD_MANAGER = 'market-pipeline-tests';

export function testKubeConfig(): KubeConfig {
  const file = requireEnv('Kubernetes API server', 'KUBECONFIG');
  const kc = new KubeConfig();
  kc.loadFromFile(file);
  return kc;
}

/** A client for the test API server; fails naming the server when it is not reachable. */
export async function testKubeClient(): Promise<{ kubeConfig: KubeConfig; client: KubeClient }> {
  const kubeConfig = testKubeConfig();
  const client = new KubeClient(kubeConfig);
  await reach('Kubernetes API server', kubeConfig.getCurrentCluster()?.server ?? '?', () =>
    client.request(HttpMethod.GET, '/version'),
  );
  return { kubeConfig, client };
}

/** Installs (or updates) the CRD from crds/ with server-side apply and waits until it is served. */
export async function installCrd(client: KubeClient): Promise<void> {
  const crd = parse(readFileSync(path.join(process.cwd(), CRD_FILE), 'utf8')) as KubeObject;
  await client.apply(crd, { fieldManager: TEST_FIELD_MANAGER, force: true });
  await waitFor('the CRD to be Established', async () => {
    const live = await client.get<
      KubeObject & { status?: { conditions?: { type: string; status: string }[] } }
    >('CustomResourceDefinition', undefined, CRD_NAME);
    return live?.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
  });
}

export async function createTestNamespace(client: KubeClient, prefix = 'it'): Promise<string> {
  const name = `${prefix}-${uniqueSuffix()}`.slice(0, 63);
  await client.create('Namespace', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  return name;
}

export async function deleteNamespace(client: KubeClient, name: string): Promise<void> {
  await client.delete('Namespace', undefined, name);
}

/** Polls `probe` until it returns a truthy value; the error names what was awaited and the last value. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  { timeoutMs = 30_000, intervalMs = 200 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      const shown = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${shown}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

interface PodLike extends KubeObject {
  spec: { containers: { name: string; image: string }[] };
  status?: { phase?: string };
}

function now(): string {
  return rfc3339(Date.now());
}

async function pods(client: KubeClient, namespace: string, labelSelector: string): Promise<PodLike[]> {
  return (await client.list<PodLike>('Pod', { namespace, labelSelector })).items.filter(
    (p) => !p.metadata.deletionTimestamp,
  );
}

/** Kubelet stand-in: marks the selected pods Running and Ready (containers started). */
export async function markPodsReady(
  client: KubeClient,
  namespace: string,
  labelSelector: string,
): Promise<number> {
  const selected = await pods(client, namespace, labelSelector);
  const t = now();
  for (const pod of selected.filter((p) => p.status?.phase !== 'Running')) {
    await client.patch(
      'Pod',
      namespace,
      pod.metadata.name!,
      {
        status: {
          phase: 'Running',
          conditions: [
            { type: 'Ready', status: 'True', lastTransitionTime: t },
            { type: 'ContainersReady', status: 'True', lastTransitionTime: t },
          ],
          containerStatuses: pod.spec.containers.map((c) => ({
            name: c.name,
            image: c.image,
            imageID: '',
            ready: true,
            started: true,
            restartCount: 0,
            state: { running: { startedAt: t } },
          })),
        },
      },
      { subresource: 'status' },
    );
  }
  return selected.length;
}

/** Kubelet stand-in: the selected (Job) pods ran to completion with exit code 0. */
export async function markPodsSucceeded(
  client: KubeClient,
  namespace: string,
  labelSelector: string,
): Promise<number> {
  const selected = await pods(client, namespace, labelSelector);
  const t = now();
  for (const pod of selected.filter((p) => p.status?.phase !== 'Succeeded')) {
    await client.patch(
      'Pod',
      namespace,
      pod.metadata.name!,
      {
        status: {
          phase: 'Succeeded',
          containerStatuses: pod.spec.containers.map((c) => ({
            name: c.name,
            image: c.image,
            imageID: '',
            ready: false,
            restartCount: 0,
            state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: t, finishedAt: t } },
          })),
        },
      },
      { subresource: 'status' },
    );
  }
  return selected.length;
}

/** True when every leaf of `expected` is in `actual` (arrays element by element, same length). */
export function contains(actual: unknown, expected: unknown): boolean {
  if (Array.isArray(expected)) {
    return (
      Array.isArray(actual) &&
      actual.length === expected.length &&
      expected.every((e, i) => contains(actual[i], e))
    );
  }
  if (expected && typeof expected === 'object') {
    if (!actual || typeof actual !== 'object') return false;
    return Object.entries(expected).every(([k, v]) => contains((actual as Record<string, unknown>)[k], v));
  }
  return actual === expected;
}
