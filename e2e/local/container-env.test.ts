import { describe, expect, it } from '@jest/globals';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import {
  ContainerConfigError,
  expandVariables,
  resolveContainerEnv,
  type ConfigSource,
} from './container-env.js';

const pod: V1Pod = {
  metadata: { name: 'fx-bridge-abc', namespace: 'markets', uid: 'u1' },
  spec: { containers: [], nodeName: 'process-kubelet' },
};

const source: ConfigSource = {
  async configMap(_ns, name) {
    return name === 'fx-config'
      ? { NATS_URL: 'nats://nats:4222', LOG_LEVEL: 'info', 'BAD=KEY': 'x' }
      : undefined;
  },
  async secret(_ns, name) {
    return name === 'timescaledb' ? { password: 's3cret' } : undefined;
  },
};

const container = (spec: Partial<V1Container>): V1Container => ({ name: 'bridge', ...spec });

describe('container environment, resolved as the kubelet resolves it', () => {
  it('takes envFrom first, then env entries, later names winning; skips keys that are not variable names', async () => {
    const env = await resolveContainerEnv(
      pod,
      container({
        envFrom: [
          { configMapRef: { name: 'fx-config' } },
          { prefix: 'DB_', secretRef: { name: 'timescaledb' } },
        ],
        env: [
          { name: 'LOG_LEVEL', value: 'debug' },
          {
            name: 'TIMESCALEDB_PASSWORD',
            valueFrom: { secretKeyRef: { name: 'timescaledb', key: 'password' } },
          },
          { name: 'NATS', valueFrom: { configMapKeyRef: { name: 'fx-config', key: 'NATS_URL' } } },
          { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        ],
      }),
      source,
    );
    expect(env).toEqual({
      NATS_URL: 'nats://nats:4222',
      LOG_LEVEL: 'debug',
      DB_password: 's3cret',
      TIMESCALEDB_PASSWORD: 's3cret',
      NATS: 'nats://nats:4222',
      POD: 'fx-bridge-abc',
    });
  });

  it.each([
    [{ envFrom: [{ configMapRef: { name: 'missing' } }] }, 'configmap "missing" not found'],
    [{ envFrom: [{ secretRef: { name: 'missing' } }] }, 'secret "missing" not found'],
    [
      { env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'fx-config', key: 'NOPE' } } }] },
      "couldn't find key NOPE in ConfigMap markets/fx-config",
    ],
    [
      { env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'timescaledb', key: 'pass' } } }] },
      "couldn't find key pass in Secret markets/timescaledb",
    ],
    [
      { env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'other', key: 'password' } } }] },
      'secret "other" not found',
    ],
  ])(
    'refuses a missing reference like the kubelet (CreateContainerConfigError): %j',
    async (spec, message) => {
      const attempt = resolveContainerEnv(pod, container(spec), source);
      await expect(attempt).rejects.toThrow(ContainerConfigError);
      await expect(attempt).rejects.toThrow(message);
    },
  );

  it('accepts a missing reference marked optional', async () => {
    const env = await resolveContainerEnv(
      pod,
      container({
        envFrom: [{ configMapRef: { name: 'missing', optional: true } }],
        env: [
          { name: 'X', valueFrom: { secretKeyRef: { name: 'timescaledb', key: 'nope', optional: true } } },
        ],
      }),
      source,
    );
    expect(env).toEqual({});
  });

  it('expands $(VAR) against variables defined before, leaves unknown ones and unescapes $$', async () => {
    expect(expandVariables('a $(X)-$(Y) $$(X) $', { X: '1' })).toBe('a 1-$(Y) $(X) $');
    const env = await resolveContainerEnv(
      pod,
      container({
        envFrom: [{ configMapRef: { name: 'fx-config' } }],
        env: [{ name: 'URL', value: '$(NATS_URL)/x' }],
      }),
      source,
    );
    expect(env.URL).toBe('nats://nats:4222/x');
  });
});
