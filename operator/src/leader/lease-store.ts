// The Lease object in the API server, for the elector. Writes are optimistic (PUT with the
// resourceVersion that was read, create fails if it exists): a 409 means another candidate
// wrote first, reported as ConflictError.
import { isConflict, type KubeClient } from '../kube/client.js';
import { ConflictError, type LeaseObject, type LeaseSpec, type LeaseStore } from './elector.js';

export function kubeLeaseStore(client: KubeClient, namespace: string, name: string): LeaseStore {
  const conflicts = async <T>(write: () => Promise<T>): Promise<T> => {
    try {
      return await write();
    } catch (error) {
      if (isConflict(error))
        throw new ConflictError(`lease ${namespace}/${name} was changed by another candidate`);
      throw error;
    }
  };
  return {
    get: () => client.get('Lease', namespace, name) as Promise<LeaseObject | undefined>,
    create: (spec: LeaseSpec) =>
      conflicts<LeaseObject>(() =>
        client.create('Lease', {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace },
          spec,
        }),
      ),
    update: (current: LeaseObject, spec: LeaseSpec) =>
      conflicts<LeaseObject>(() =>
        client.replace('Lease', {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace, resourceVersion: current.metadata.resourceVersion },
          spec,
        }),
      ),
  };
}
