// A container's environment, resolved the way the kubelet resolves it (pkg/kubelet/
// kubelet_pods.go makeEnvironmentVariables): envFrom sources in order (ConfigMaps, Secrets,
// with prefix), then `env` entries, later names overriding earlier ones; `$(VAR)` in values
// expands against the variables defined so far. A reference to a ConfigMap, Secret or key
// that does not exist (and is not optional) is a ContainerConfigError: the kubelet reports
// CreateContainerConfigError and does not start the container.
import type { V1Container, V1EnvVar, V1Pod } from '@kubernetes/client-node';

export class ContainerConfigError extends Error {
  readonly reason = 'CreateContainerConfigError';
}

/** Reads ConfigMap and Secret data (Secret values decoded); undefined when the object is missing. */
export interface ConfigSource {
  configMap(namespace: string, name: string): Promise<Record<string, string> | undefined>;
  secret(namespace: string, name: string): Promise<Record<string, string> | undefined>;
}

export async function resolveContainerEnv(
  pod: V1Pod,
  container: V1Container,
  source: ConfigSource,
): Promise<Record<string, string>> {
  const namespace = pod.metadata!.namespace!;
  const env: Record<string, string> = {};

  for (const from of container.envFrom ?? []) {
    const ref = from.configMapRef ?? from.secretRef;
    if (!ref?.name) continue;
    const kind = from.configMapRef ? 'configmap' : 'secret';
    const data = from.configMapRef
      ? await source.configMap(namespace, ref.name)
      : await source.secret(namespace, ref.name);
    if (!data) {
      if (ref.optional) continue;
      throw new ContainerConfigError(`${kind} "${ref.name}" not found`);
    }
    for (const [key, value] of Object.entries(data)) {
      // Names with '=' cannot be environment variables; the kubelet skips them (with an event).
      if (!key.includes('=')) env[`${from.prefix ?? ''}${key}`] = value;
    }
  }

  for (const variable of container.env ?? []) {
    const value = await envValue(pod, variable, env, source);
    if (value !== undefined) env[variable.name] = value;
  }
  return env;
}

async function envValue(
  pod: V1Pod,
  variable: V1EnvVar,
  defined: Record<string, string>,
  source: ConfigSource,
): Promise<string | undefined> {
  const namespace = pod.metadata!.namespace!;
  if (!variable.valueFrom) return expandVariables(variable.value ?? '', defined);
  const { configMapKeyRef, secretKeyRef, fieldRef } = variable.valueFrom;
  if (configMapKeyRef) {
    const data = await source.configMap(namespace, configMapKeyRef.name!);
    const value = data?.[configMapKeyRef.key];
    if (value !== undefined || configMapKeyRef.optional) return value;
    throw new ContainerConfigError(
      data
        ? `couldn't find key ${configMapKeyRef.key} in ConfigMap ${namespace}/${configMapKeyRef.name}`
        : `configmap "${configMapKeyRef.name}" not found`,
    );
  }
  if (secretKeyRef) {
    const data = await source.secret(namespace, secretKeyRef.name!);
    const value = data?.[secretKeyRef.key];
    if (value !== undefined || secretKeyRef.optional) return value;
    throw new ContainerConfigError(
      data
        ? `couldn't find key ${secretKeyRef.key} in Secret ${namespace}/${secretKeyRef.name}`
        : `secret "${secretKeyRef.name}" not found`,
    );
  }
  if (fieldRef) return podField(pod, fieldRef.fieldPath);
  throw new ContainerConfigError(
    `env ${variable.name}: only value, configMapKeyRef, secretKeyRef and fieldRef are supported here`,
  );
}

/** The downward-API fields a process can know without a container runtime. */
function podField(pod: V1Pod, fieldPath: string): string {
  const fields: Record<string, string | undefined> = {
    'metadata.name': pod.metadata!.name,
    'metadata.namespace': pod.metadata!.namespace,
    'metadata.uid': pod.metadata!.uid,
    'spec.nodeName': pod.spec!.nodeName,
    'spec.serviceAccountName': pod.spec!.serviceAccountName,
    'status.podIP': pod.status?.podIP,
    'status.hostIP': pod.status?.hostIP,
  };
  const value = fields[fieldPath];
  if (value === undefined) throw new ContainerConfigError(`unsupported fieldRef ${fieldPath}`);
  return value;
}

/**
 * Kubernetes `$(VAR)` expansion (third_party/forked/golang/expansion): `$(NAME)` becomes the
 * variable's value when it is defined and stays as written otherwise; `$$` is a literal `$`.
 */
export function expandVariables(input: string, defined: Record<string, string>): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    const c = input[i];
    if (c !== '$' || i + 1 >= input.length) {
      out += c;
      continue;
    }
    const next = input[i + 1];
    if (next === '$') {
      out += '$';
      i++;
    } else if (next === '(') {
      const close = input.indexOf(')', i + 2);
      if (close === -1) {
        out += input.slice(i);
        break;
      }
      const name = input.slice(i + 2, close);
      out += defined[name] ?? input.slice(i, close + 1);
      i = close;
    } else {
      out += c;
    }
  }
  return out;
}
