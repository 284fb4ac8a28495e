// The CRD against a real API server: it installs, accepts the examples (with the API server
// filling in the defaults), and refuses each invalid fixture naming the field and the reason.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { HttpMethod } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { KubeApiError, type KubeClient } from '../../../operator/src/kube/client.js';
import type { KubeObject } from '../../../operator/src/kube/resources.js';
import { createTestNamespace, deleteNamespace, installCrd, testKubeClient } from '../../support/kube.js';

// The project-level testTimeout does not reach tests in a multi-project jest config.
jest.setTimeout(120_000);

let client: KubeClient;
let namespace: string;

const docs = (file: string) =>
  parseAllDocuments(readFileSync(file, 'utf8')).map(
    (d) => d.toJS() as KubeObject & { spec?: Record<string, unknown> },
  );

beforeAll(async () => {
  ({ client } = await testKubeClient());
  await installCrd(client);
  namespace = await createTestNamespace(client, 'it-crd');
});

afterAll(async () => {
  if (namespace) await deleteNamespace(client, namespace);
});

describe('MarketPipeline CRD on a real API server', () => {
  it('installs idempotently and is served with its short name and status subresource', async () => {
    await installCrd(client); // a second apply changes nothing and fails nothing
    const resources = await client.request<{
      resources: { name: string; shortNames?: string[]; namespaced: boolean }[];
    }>(HttpMethod.GET, '/apis/marketdata.suho.io/v1alpha1');
    expect(resources.resources.map((r) => r.name).sort()).toEqual([
      'marketpipelines',
      'marketpipelines/status',
    ]);
    expect(resources.resources.find((r) => r.name === 'marketpipelines')).toMatchObject({
      shortNames: ['mpl'],
      namespaced: true,
    });
  });

  const examples = readdirSync('examples').filter((f) => f.endsWith('.yaml'));
  it.each(examples)('accepts examples/%s', async (file) => {
    for (const doc of docs(path.join('examples', file))) {
      const kind = doc.kind as 'Secret' | 'MarketPipeline';
      const created = await client.create(kind, { ...doc, metadata: { ...doc.metadata, namespace } });
      expect(created.metadata.uid).toBeTruthy();
    }
  });

  it('fills in the defaults, nested ones included', async () => {
    const stored = await client.get<KubeObject & { spec: Record<string, unknown> }>(
      'MarketPipeline',
      namespace,
      'fx-archive',
    );
    expect(stored!.spec).toMatchObject({
      timeframes: ['5m', '15m', '30m', '1h', '4h', '1d', '1w'],
      tenantId: 'system',
      source: { simulator: { quotesPerSecond: 5, port: 8765 } },
      bridge: {
        replicas: 2,
        live: { batchSize: 1000, batchTimeoutSeconds: 1 },
        historical: { batchSize: 5000, batchTimeoutSeconds: 10 },
      },
      backfill: { schedule: '15 * * * *', windowDays: 730, suspend: false },
      // No repository or tag stored: the operator's default (the chart's appVersion) applies.
      image: { pullPolicy: 'IfNotPresent' },
      timescaledb: {
        port: 5432,
        database: 'suho_trading',
        user: 'suho_service',
        retentionDays: 90,
        compressAfterDays: 7,
      },
      // The long-term tick store is off unless asked for; there is no cache unless configured.
      clickhouse: { ticks: { enabled: false, retentionDays: 3650 } },
    });
    expect(stored!.spec.image).toEqual({ pullPolicy: 'IfNotPresent' });
    expect(stored!.spec.cache).toBeUndefined();
  });

  it('takes a cache section and fills in its defaults', async () => {
    const pipeline = docs('examples/simulator.yaml').find((d) => d.kind === 'MarketPipeline');
    const created = await client.create<KubeObject & { spec: Record<string, unknown> }>('MarketPipeline', {
      ...pipeline!,
      metadata: { name: 'with-cache', namespace },
      spec: {
        ...pipeline!.spec,
        cache: { host: 'dragonfly', passwordSecretRef: { name: 'dragonfly', key: 'password' } },
      },
    });
    expect(created.spec.cache).toEqual({
      host: 'dragonfly',
      port: 6379,
      ttlSeconds: 604800,
      passwordSecretRef: { name: 'dragonfly', key: 'password' },
    });
  });

  const dir = 'operator/test/fixtures/invalid';
  const fixtures = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
  it.each(fixtures)('refuses %s naming the field and the reason', async (file) => {
    const text = readFileSync(path.join(dir, file), 'utf8');
    const field = /^# field: (.*)$/m.exec(text)![1]!;
    const message = /^# message: (.*)$/m.exec(text)![1]!;
    const [doc] = docs(path.join(dir, file));
    let refused: unknown;
    try {
      await client.create('MarketPipeline', { ...doc!, metadata: { ...doc!.metadata, namespace } });
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(KubeApiError);
    const apiError = refused as KubeApiError;
    expect(apiError.status).toBe(422);
    expect(apiError.apiMessage).toContain(field);
    expect(apiError.apiMessage).toContain(message);
  });
});
