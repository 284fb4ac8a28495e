// Proves the test Kubernetes control plane is real: the API server serves a CRD with a
// structural schema (a default applied, an enum and a CEL rule enforced, a status
// subresource), and kube-controller-manager runs its controllers (a Deployment gets a
// ReplicaSet and a Pod; deleting the Deployment garbage-collects the ReplicaSet).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  ApiException,
  ApiextensionsV1Api,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  VersionApi,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { reach, requireEnv, uniqueSuffix } from '../support/servers.js';

/** Polls `probe` every 250 ms until it returns a value, failing after `timeoutMs`. */
async function eventually<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The HTTP status and the Status message of a refused request (fails if it succeeded). */
async function refusal(request: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await request;
  } catch (error) {
    if (!(error instanceof ApiException)) throw error;
    const body: unknown = typeof error.body === 'string' ? JSON.parse(error.body) : error.body;
    return { code: error.code, message: String((body as { message?: unknown } | undefined)?.message ?? '') };
  }
  throw new Error('the API server accepted a request that should have been refused');
}

function isNotFound(error: unknown): boolean {
  return error instanceof ApiException && error.code === 404;
}

describe('Kubernetes test control plane', () => {
  const kubeconfigPath = requireEnv('Kubernetes API server', 'KUBECONFIG');
  const suffix = uniqueSuffix();
  const namespace = `it-${suffix}`;
  const group = `it-${suffix}.example.com`;
  const plural = 'widgets';
  const crdName = `${plural}.${group}`;
  const version = 'v1';
  const kc = new KubeConfig();
  let core: CoreV1Api;
  let apiextensions: ApiextensionsV1Api;
  let customObjects: CustomObjectsApi;
  let apps: AppsV1Api;

  beforeAll(async () => {
    kc.loadFromFile(kubeconfigPath);
    const server = kc.getCurrentCluster()?.server ?? kubeconfigPath;
    const info = await reach('Kubernetes API server', server, () => kc.makeApiClient(VersionApi).getCode());
    expect(info.gitVersion).toMatch(/^v1\.\d+\.\d+/); // not v0.0.0: the build stamped its version
    core = kc.makeApiClient(CoreV1Api);
    apiextensions = kc.makeApiClient(ApiextensionsV1Api);
    customObjects = kc.makeApiClient(CustomObjectsApi);
    apps = kc.makeApiClient(AppsV1Api);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
  });

  afterAll(async () => {
    if (!core) return;
    await apiextensions.deleteCustomResourceDefinition({ name: crdName }).catch(() => undefined);
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  });

  it('serves a CRD: defaults applied, enum and CEL rule enforced, status subresource', async () => {
    // The generated models name `default`, `enum` and `x-kubernetes-*` as `_default`,
    // `_enum` and `x_kubernetes_*`; the client's serializer maps them back.
    const crd: V1CustomResourceDefinition = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: crdName },
      spec: {
        group,
        scope: 'Namespaced',
        names: { plural, singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
        versions: [
          {
            name: version,
            served: true,
            storage: true,
            subresources: { status: {} },
            schema: {
              openAPIV3Schema: {
                type: 'object',
                properties: {
                  spec: {
                    type: 'object',
                    required: ['size'],
                    properties: {
                      size: { type: 'string', _enum: ['small', 'medium', 'large'] },
                      minReplicas: { type: 'integer', minimum: 0, _default: 1 },
                      maxReplicas: { type: 'integer', minimum: 0, _default: 3 },
                    },
                    x_kubernetes_validations: [
                      {
                        rule: 'self.minReplicas <= self.maxReplicas',
                        message: 'minReplicas must not exceed maxReplicas',
                        fieldPath: '.minReplicas',
                      },
                    ],
                  },
                  status: { type: 'object', properties: { phase: { type: 'string' } } },
                },
              },
            },
          },
        ],
      },
    };
    await apiextensions.createCustomResourceDefinition({ body: crd });
    await eventually(`CRD ${crdName} to be Established`, 30_000, async () => {
      const current = await apiextensions.readCustomResourceDefinition({ name: crdName });
      const established = current.status?.conditions?.find((c) => c.type === 'Established');
      return established?.status === 'True' ? true : undefined;
    });

    const widget = (name: string, spec: Record<string, unknown>) => ({
      apiVersion: `${group}/${version}`,
      kind: 'Widget',
      metadata: { name, namespace },
      spec,
    });
    const where = { group, version, namespace, plural };

    // Established can precede the first request served by a moment; retry a 404 briefly.
    await eventually('the first Widget to be accepted', 10_000, () =>
      customObjects.createNamespacedCustomObject({ ...where, body: widget('ok', { size: 'small' }) }).then(
        () => true,
        (error: unknown) => {
          if (isNotFound(error)) return undefined;
          throw error;
        },
      ),
    );
    const stored = (await customObjects.getNamespacedCustomObject({ ...where, name: 'ok' })) as {
      metadata: { generation: number };
      spec: Record<string, unknown>;
    };
    expect(stored.spec).toEqual({ size: 'small', minReplicas: 1, maxReplicas: 3 });

    const badEnum = await refusal(
      customObjects.createNamespacedCustomObject({ ...where, body: widget('bad-enum', { size: 'huge' }) }),
    );
    expect(badEnum.code).toBe(422);
    expect(badEnum.message).toContain('spec.size');
    expect(badEnum.message).toContain('Unsupported value: "huge"');

    const badRule = await refusal(
      customObjects.createNamespacedCustomObject({
        ...where,
        body: widget('bad-rule', { size: 'large', minReplicas: 5, maxReplicas: 2 }),
      }),
    );
    expect(badRule.code).toBe(422);
    expect(badRule.message).toContain('spec.minReplicas');
    expect(badRule.message).toContain('minReplicas must not exceed maxReplicas');

    // With the status subresource, status is written only through /status and does not
    // bump the generation.
    const withStatus = await customObjects.replaceNamespacedCustomObjectStatus({
      ...where,
      name: 'ok',
      body: { ...stored, status: { phase: 'Ready' } },
    });
    expect((withStatus as { status?: unknown }).status).toEqual({ phase: 'Ready' });
    expect((withStatus as { metadata: { generation: number } }).metadata.generation).toBe(
      stored.metadata.generation,
    );

    await customObjects.deleteNamespacedCustomObject({ ...where, name: 'ok' });
    await apiextensions.deleteCustomResourceDefinition({ name: crdName });
  });

  it('runs the controllers: a Deployment gets a ReplicaSet and a Pod, and garbage collection follows', async () => {
    const name = 'web';
    const labels = { app: name, suite: suffix };
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name, labels },
        spec: {
          replicas: 1,
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: { containers: [{ name: 'web', image: 'nginx' }] } },
        },
      },
    });
    const labelSelector = `app=${name},suite=${suffix}`;

    const replicaSet = await eventually(
      'the Deployment controller to create a ReplicaSet',
      30_000,
      async () => {
        const list = await apps.listNamespacedReplicaSet({ namespace, labelSelector });
        return list.items[0];
      },
    );
    expect(replicaSet.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: 'Deployment',
      name,
      controller: true,
    });

    // No kubelet or scheduler: the Pod exists (admitted with the `default` ServiceAccount
    // that the controller manager created) and stays Pending.
    const pod = await eventually('the ReplicaSet controller to create a Pod', 30_000, async () => {
      const list = await core.listNamespacedPod({ namespace, labelSelector });
      return list.items[0];
    });
    expect(pod.status?.phase).toBe('Pending');
    expect(pod.spec?.serviceAccountName).toBe('default');

    await apps.deleteNamespacedDeployment({ namespace, name, propagationPolicy: 'Background' });
    await eventually('the garbage collector to delete the ReplicaSet', 30_000, async () => {
      const list = await apps.listNamespacedReplicaSet({ namespace, labelSelector });
      return list.items.length === 0 ? true : undefined;
    });
  });
});
