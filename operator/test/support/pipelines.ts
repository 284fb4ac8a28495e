// MarketPipeline objects for unit tests: a spec input, defaulted by the same zod schema the
// CRD is generated from (so they look like what the API server stores).
import { specSchema, type MarketPipeline, type MarketPipelineSpecInput } from '../../src/crd/spec.js';

export const baseSpec: MarketPipelineSpecInput = {
  symbols: ['EUR/USD', 'XAU/USD'],
  source: { simulator: { seed: 7 } },
  nats: { url: 'nats://nats:4222' },
  timescaledb: { host: 'timescaledb', passwordSecretRef: { name: 'timescaledb', key: 'password' } },
  clickhouse: { url: 'http://clickhouse:8123', passwordSecretRef: { name: 'clickhouse', key: 'password' } },
};

export const polygonSource: MarketPipelineSpecInput['source'] = {
  polygon: { apiKeySecretRef: { name: 'polygon', key: 'apiKey' } },
};

export function makePipeline(
  overrides: Partial<MarketPipelineSpecInput> = {},
  name = 'fx',
  namespace = 'markets',
): MarketPipeline {
  return {
    apiVersion: 'marketdata.suho.io/v1alpha1',
    kind: 'MarketPipeline',
    metadata: { name, namespace, uid: `uid-${name}`, generation: 3 },
    spec: specSchema.parse({ ...baseSpec, ...overrides }),
  };
}
