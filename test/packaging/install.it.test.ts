// `helm install` of the chart into the test API server (cluster-wide and namespaced), the
// operator's permissions asked of the API server itself (`kubectl auth can-i --as` its
// ServiceAccount), `helm upgrade` keeping the dev passwords, and `helm uninstall` cleaning up.
// No --wait: without a kubelet no pod ever runs, so nothing would become ready.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { HttpMethod } from '@kubernetes/client-node';
import type { KubeClient } from '../../operator/src/kube/client.js';
import type { KubeObject } from '../../operator/src/kube/resources.js';
import { runTool, tool } from '../support/cli-tools.js';
import {
  createTestNamespace,
  deleteNamespace,
  installCrd,
  testKubeClient,
  waitFor,
} from '../support/kube.js';
import { uniqueSuffix } from '../support/servers.js';
import { CHART, canI, describeCheck, type AccessCheck } from './helm-chart.js';

let client: KubeClient;
const namespaces: string[] = [];
/** Releases still installed: uninstalled in afterAll if a test stopped before doing it. */
const releases = new Map<string, string>();

beforeAll(async () => {
  ({ client } = await testKubeClient());
  // The CRD is shared by every test of this API server and owned by none of our releases
  // (Helm refuses to adopt it): the installs below run with crds.install=false.
  await installCrd(client);
});

afterAll(async () => {
  // Uninstall first: deleting the namespace would drop Helm's release record and leave the
  // cluster-scoped ClusterRole and ClusterRoleBinding behind.
  for (const [release, ns] of releases) await runTool('helm', ['uninstall', release, '--namespace', ns]);
  if (client) await Promise.all(namespaces.map((ns) => deleteNamespace(client, ns)));
});

async function namespace(prefix: string): Promise<string> {
  const ns = await createTestNamespace(client, prefix);
  namespaces.push(ns);
  return ns;
}

const OWNED = [
  'configmaps',
  'serviceaccounts',
  'services',
  'deployments.apps',
  'jobs.batch',
  'cronjobs.batch',
];
const MPL = 'marketpipelines.marketdata.suho.io';

/** What the operator does in a namespace it reconciles (operator/README.md, "Permissions it needs"). */
function reconcileNeeds(ns: string): AccessCheck[] {
  return [
    ...['get', 'list', 'watch'].map((verb) => ({ verb, resource: MPL, namespace: ns })),
    { verb: 'patch', resource: MPL, subresource: 'status', namespace: ns },
    { verb: 'update', resource: MPL, subresource: 'finalizers', namespace: ns },
    ...OWNED.flatMap((resource) =>
      ['list', 'watch', 'create', 'patch', 'delete'].map((verb) => ({ verb, resource, namespace: ns })),
    ),
    { verb: 'get', resource: 'secrets', namespace: ns },
    { verb: 'create', resource: 'events', namespace: ns },
  ];
}

/** What it must never do in a namespace it reconciles. */
function reconcileForbidden(ns: string): AccessCheck[] {
  return [
    ...['list', 'watch', 'create', 'update', 'patch', 'delete'].map((verb) => ({
      verb,
      resource: 'secrets',
      namespace: ns,
    })),
    ...['create', 'update', 'delete'].map((verb) => ({ verb, resource: MPL, namespace: ns })),
    { verb: 'update', resource: MPL, subresource: 'status', namespace: ns },
    { verb: 'create', resource: 'pods', namespace: ns },
    { verb: 'create', resource: 'pods', subresource: 'exec', namespace: ns },
    { verb: 'create', resource: 'roles.rbac.authorization.k8s.io', namespace: ns },
    { verb: 'create', resource: 'rolebindings.rbac.authorization.k8s.io', namespace: ns },
    { verb: 'update', resource: 'deployments.apps', namespace: ns },
    { verb: 'delete', resource: 'events', namespace: ns },
  ];
}

/** Leader election: its own Lease only, in the release namespace. */
function leaseNeeds(ns: string, lease: string): AccessCheck[] {
  return [
    { verb: 'create', resource: 'leases.coordination.k8s.io', namespace: ns },
    { verb: 'get', resource: `leases.coordination.k8s.io/${lease}`, namespace: ns },
    { verb: 'update', resource: `leases.coordination.k8s.io/${lease}`, namespace: ns },
  ];
}

function leaseForbidden(ns: string): AccessCheck[] {
  return [
    { verb: 'get', resource: 'leases.coordination.k8s.io/someone-else', namespace: ns },
    { verb: 'update', resource: 'leases.coordination.k8s.io/someone-else', namespace: ns },
    { verb: 'delete', resource: 'leases.coordination.k8s.io', namespace: ns },
    { verb: 'list', resource: 'leases.coordination.k8s.io', namespace: ns },
  ];
}

const CLUSTER_FORBIDDEN: AccessCheck[] = [
  { verb: 'delete', resource: 'namespaces' },
  { verb: 'create', resource: 'namespaces' },
  { verb: 'list', resource: 'nodes' },
  { verb: 'create', resource: 'clusterroles.rbac.authorization.k8s.io' },
  { verb: 'create', resource: 'clusterrolebindings.rbac.authorization.k8s.io' },
  { verb: 'update', resource: 'customresourcedefinitions.apiextensions.k8s.io' },
  { verb: 'list', resource: 'secrets', allNamespaces: true },
];

/** Asks the API server every check at once; the failure names each wrong answer. */
async function expectAccess(
  serviceAccount: string,
  allowed: AccessCheck[],
  denied: AccessCheck[],
): Promise<void> {
  const answers = await canI(serviceAccount, [...allowed, ...denied]);
  const wrong = [
    ...allowed
      .filter((c) => !answers.get(describeCheck(c)))
      .map((c) => `should be allowed: ${describeCheck(c)}`),
    ...denied
      .filter((c) => answers.get(describeCheck(c)))
      .map((c) => `should be denied: ${describeCheck(c)}`),
  ];
  expect(wrong).toEqual([]);
}

async function helmInstall(release: string, ns: string, args: string[]): Promise<void> {
  releases.set(release, ns);
  await tool('helm', ['install', release, CHART, '--namespace', ns, '--set', 'crds.install=false', ...args]);
}

async function helmUninstall(release: string, ns: string): Promise<void> {
  await tool('helm', ['uninstall', release, '--namespace', ns]);
  releases.delete(release);
}

/** Objects of the release left in a namespace (by Helm's instance label). */
async function leftovers(ns: string, release: string): Promise<string[]> {
  const kinds = ['Deployment', 'Service', 'ServiceAccount', 'Secret', 'ConfigMap'] as const;
  const found: string[] = [];
  for (const kind of kinds) {
    const list = await client.list<KubeObject>(kind, {
      namespace: ns,
      labelSelector: `app.kubernetes.io/instance=${release}`,
    });
    found.push(...list.items.map((o) => `${kind}/${o.metadata.name}`));
  }
  for (const plural of ['roles', 'rolebindings']) {
    const list = (await client.request(
      HttpMethod.GET,
      `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/${plural}`,
      {
        query: { labelSelector: `app.kubernetes.io/instance=${release}` },
      },
    )) as { items: KubeObject[] };
    found.push(...list.items.map((o) => `${plural}/${o.metadata.name}`));
  }
  return found;
}

/** Cluster-scoped RBAC objects of a release (by Helm's instance label), sorted. */
async function clusterRbac(release: string): Promise<string[]> {
  const found: string[] = [];
  for (const plural of ['clusterroles', 'clusterrolebindings']) {
    const list = (await client.request(HttpMethod.GET, `/apis/rbac.authorization.k8s.io/v1/${plural}`, {
      query: { labelSelector: `app.kubernetes.io/instance=${release}` },
    })) as { items: KubeObject[] };
    found.push(...list.items.map((o) => `${plural}/${o.metadata.name}`));
  }
  return found.sort();
}

async function secretPassword(ns: string, name: string): Promise<string> {
  const secret = await client.get<KubeObject & { data: Record<string, string> }>('Secret', ns, name);
  return Buffer.from(secret!.data.password!, 'base64').toString();
}

describe('cluster-wide install (the default)', () => {
  let ns: string;
  let elsewhere: string;
  let release: string;
  let fullname: string;
  let sa: string;

  beforeAll(async () => {
    [ns, elsewhere] = await Promise.all([namespace('mp-cw'), namespace('mp-cw-other')]);
    release = `cw-${uniqueSuffix()}`;
    fullname = `${release}-market-pipeline`;
    sa = `system:serviceaccount:${ns}:${fullname}`;
    await helmInstall(release, ns, [
      '--values',
      `${CHART}/ci/cluster-wide-values.yaml`,
      '--values',
      `${CHART}/ci/dev-values.yaml`,
    ]);
  });

  it('creates the operator, its RBAC and the dev servers', async () => {
    const deployments = await client.list<KubeObject>('Deployment', { namespace: ns });
    expect(deployments.items.map((d) => d.metadata.name).sort()).toEqual(
      ['clickhouse', 'dragonfly', fullname, 'nats', 'timescaledb'].sort(),
    );
    expect(await clusterRbac(release)).toEqual(
      [
        `clusterroles/${fullname}`,
        `clusterroles/${fullname}-edit`,
        `clusterroles/${fullname}-view`,
        `clusterrolebindings/${fullname}`,
      ].sort(),
    );
    // Two replicas: a PodDisruptionBudget keeps one through a drain.
    const pdb = (await client.request(
      HttpMethod.GET,
      `/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets/${fullname}`,
    )) as { spec: { minAvailable: number } };
    expect(pdb.spec.minAvailable).toBe(1);
  });

  it('lets users bound to view read MarketPipelines, and to edit or admin manage them (aggregated ClusterRoles)', async () => {
    for (const [user, role] of [
      ['mp-viewer', 'view'],
      ['mp-editor', 'edit'],
      ['mp-admin', 'admin'],
    ] as const) {
      await tool('kubectl', [
        'create',
        'rolebinding',
        user,
        `--clusterrole=${role}`,
        `--user=${user}`,
        '-n',
        ns,
      ]);
    }
    const read = ['get', 'list', 'watch'].map((verb) => ({ verb, resource: MPL, namespace: ns }));
    const write = ['create', 'update', 'patch', 'delete', 'deletecollection'].map((verb) => ({
      verb,
      resource: MPL,
      namespace: ns,
    }));
    const status = { verb: 'patch', resource: MPL, subresource: 'status', namespace: ns };
    // kube-controller-manager's clusterrole-aggregation controller folds the rules in shortly.
    await waitFor('view, edit and admin to aggregate the chart ClusterRoles', async () => {
      const answers = await canI('mp-admin', write);
      return [...answers.values()].every(Boolean) || undefined;
    });
    await expectAccess('mp-viewer', [...read], [...write, status]);
    await expectAccess('mp-editor', [...read, ...write], [status]);
    await expectAccess('mp-admin', [...read, ...write], [status]);
    // Only in the namespace of the binding.
    await expectAccess(
      'mp-editor',
      [],
      write.map((c) => ({ ...c, namespace: elsewhere })),
    );
  });

  it('lets the operator do what it needs in any namespace, and no more', async () => {
    await expectAccess(
      sa,
      [...reconcileNeeds(ns), ...reconcileNeeds(elsewhere), ...leaseNeeds(ns, fullname)],
      [
        ...reconcileForbidden(elsewhere),
        ...leaseForbidden(ns),
        ...leaseNeeds(elsewhere, fullname),
        ...CLUSTER_FORBIDDEN,
      ],
    );
  });

  it('keeps the dev passwords on upgrade', async () => {
    const before = await secretPassword(ns, 'clickhouse');
    expect(before).toMatch(/^[A-Za-z0-9]{24}$/);
    expect(await secretPassword(ns, 'timescaledb')).toBe('dev-password');
    await tool('helm', [
      'upgrade',
      release,
      CHART,
      '--namespace',
      ns,
      '--reuse-values',
      '--set',
      'replicaCount=1',
    ]);
    expect(await secretPassword(ns, 'clickhouse')).toBe(before);
  });

  it('helm uninstall removes everything it installed', async () => {
    await helmUninstall(release, ns);
    await waitFor('the release objects to be gone', async () =>
      (await leftovers(ns, release)).length === 0 && (await clusterRbac(release)).length === 0
        ? true
        : undefined,
    );
  });
});

describe('namespaced install (rbac.clusterWide=false)', () => {
  let ns: string;
  let watchA: string;
  let watchB: string;
  let elsewhere: string;
  let release: string;
  let fullname: string;
  let sa: string;

  beforeAll(async () => {
    [ns, watchA, watchB, elsewhere] = await Promise.all([
      namespace('mp-ns'),
      namespace('mp-ns-a'),
      namespace('mp-ns-b'),
      namespace('mp-ns-other'),
    ]);
    release = `ns-${uniqueSuffix()}`;
    fullname = `${release}-market-pipeline`;
    sa = `system:serviceaccount:${ns}:${fullname}`;
    await helmInstall(release, ns, [
      '--values',
      `${CHART}/ci/namespaced-values.yaml`,
      '--set',
      `watchNamespaces={${watchA},${watchB}}`,
    ]);
  });

  it('watches exactly the listed namespaces and creates nothing cluster-scoped', async () => {
    const deployment = await client.get<
      KubeObject & {
        spec: { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } };
      }
    >('Deployment', ns, fullname);
    const env = deployment!.spec.template.spec.containers[0]!.env;
    expect(env.find((e) => e.name === 'WATCH_NAMESPACE')?.value).toBe(`${watchA},${watchB}`);
    expect(await clusterRbac(release)).toEqual([]);
  });

  it('grants the reconcile rules in the watched namespaces only, and the Lease in its own', async () => {
    await expectAccess(
      sa,
      [...reconcileNeeds(watchA), ...reconcileNeeds(watchB), ...leaseNeeds(ns, fullname)],
      [
        ...reconcileForbidden(watchA),
        // Nothing in a namespace it does not watch, its own included (only its Lease there).
        ...reconcileNeeds(elsewhere),
        ...reconcileNeeds(ns),
        ...leaseNeeds(watchA, fullname),
        ...leaseForbidden(ns),
        ...CLUSTER_FORBIDDEN,
        { verb: 'list', resource: MPL, allNamespaces: true },
        { verb: 'watch', resource: 'deployments.apps', allNamespaces: true },
      ],
    );
  });

  it('helm uninstall removes the Roles in every watched namespace', async () => {
    await helmUninstall(release, ns);
    await waitFor('the release objects to be gone', async () => {
      const left = (await Promise.all([ns, watchA, watchB].map((n) => leftovers(n, release)))).flat();
      return left.length === 0 ? true : undefined;
    });
  });
});
