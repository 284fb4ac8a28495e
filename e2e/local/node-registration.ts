// The process kubelet's Node. Pods are bound to it through the binding subresource (what
// kube-scheduler does; no scheduler runs on the test servers), so the controllers see them
// scheduled, and graceful deletion waits for this kubelet to stop their processes, as on a
// cluster. Like a kubelet it reports a Ready condition and renews its Lease in
// kube-node-lease every 10 s: otherwise the node lifecycle controller would mark the node
// unreachable after its grace period and taint it, and the taint eviction controller would
// evict the pods five minutes later.
import { HttpMethod } from '@kubernetes/client-node';
import { isConflict, isNotFound, type KubeClient } from '../../operator/src/kube/client.js';
import type { Logger } from '../../workloads/src/runtime/logger.js';
import { microTime, rfc3339 } from '../../operator/src/kube/time.js';

const NODE_LEASE_NAMESPACE = 'kube-node-lease';
const LEASE_DURATION_SECONDS = 40;
const RENEW_INTERVAL_MS = 10_000;

export interface RegisteredNode {
  name: string;
  /** Stops the heartbeat and deletes the Node and its Lease. */
  remove(): Promise<void>;
}

const nodePath = (name?: string) => `/api/v1/nodes${name ? `/${name}` : ''}`;
const leasePath = (name?: string) =>
  `/apis/coordination.k8s.io/v1/namespaces/${NODE_LEASE_NAMESPACE}/leases${name ? `/${name}` : ''}`;
/** MicroTime, as Lease.spec.renewTime wants it. */

export async function registerNode(client: KubeClient, name: string, log: Logger): Promise<RegisteredNode> {
  try {
    await client.request(HttpMethod.POST, nodePath(), {
      body: {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: {
          name,
          labels: {
            'kubernetes.io/hostname': name,
            'kubernetes.io/os': 'linux',
            'market-pipeline/e2e': 'true',
          },
        },
      },
    });
  } catch (error) {
    if (!isConflict(error)) throw error; // left over from an interrupted run: take it over
  }
  const reportStatus = () => {
    const now = rfc3339(Date.now());
    return client.request(HttpMethod.PATCH, `${nodePath(name)}/status`, {
      contentType: 'application/strategic-merge-patch+json',
      body: {
        status: {
          conditions: [
            {
              type: 'Ready',
              status: 'True',
              reason: 'KubeletReady',
              message: 'process kubelet (e2e/local) is posting ready status',
              lastHeartbeatTime: now,
              lastTransitionTime: now,
            },
          ],
          addresses: [
            { type: 'InternalIP', address: '127.0.0.1' },
            { type: 'Hostname', address: name },
          ],
          capacity: { cpu: '2', memory: '4Gi', pods: '110' },
          allocatable: { cpu: '2', memory: '4Gi', pods: '110' },
        },
      },
    });
  };
  await reportStatus();

  const renewLease = async () => {
    const lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, namespace: NODE_LEASE_NAMESPACE },
      spec: {
        holderIdentity: name,
        leaseDurationSeconds: LEASE_DURATION_SECONDS,
        renewTime: microTime(Date.now()),
      },
    };
    await client.request(HttpMethod.PATCH, leasePath(name), {
      body: lease,
      contentType: 'application/apply-patch+yaml',
      query: { fieldManager: 'process-kubelet', force: true },
    });
  };
  await renewLease();
  const heartbeat = setInterval(() => {
    renewLease().catch((error: unknown) => log.warn({ err: error }, 'node lease renewal failed'));
  }, RENEW_INTERVAL_MS);

  return {
    name,
    async remove() {
      clearInterval(heartbeat);
      for (const path of [leasePath(name), nodePath(name)]) {
        await client.request(HttpMethod.DELETE, path).catch((error: unknown) => {
          if (!isNotFound(error)) throw error;
        });
      }
    },
  };
}
