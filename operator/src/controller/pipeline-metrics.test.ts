import { describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import type { MarketPipeline } from '../crd/spec.js';
import { createPipelineMetrics, PIPELINE_READY_METRIC } from './pipeline-metrics.js';

type Pipeline = Pick<MarketPipeline, 'metadata' | 'status'>;

function pipeline(namespace: string, name: string, ready?: 'True' | 'False' | 'Unknown'): Pipeline {
  return {
    metadata: { namespace, name },
    status: ready
      ? {
          conditions: [
            { type: 'CollectorReady', status: 'True', reason: 'Ready', message: '', lastTransitionTime: '' },
            { type: 'Ready', status: ready, reason: 'X', message: '', lastTransitionTime: '' },
          ],
        }
      : undefined,
  } as Pipeline;
}

describe('market_pipeline_operator_pipeline_ready', () => {
  it('is 1 for a Ready pipeline, 0 otherwise, and drops deleted pipelines', async () => {
    const registry = new Registry();
    let cache = [
      pipeline('a', 'fx', 'True'),
      pipeline('a', 'metals', 'False'),
      pipeline('b', 'fx', 'Unknown'),
      pipeline('b', 'new'),
    ];
    createPipelineMetrics(registry, () => cache);
    const values = async () => {
      const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === PIPELINE_READY_METRIC)!;
      return metric.values.map((v) => `${v.labels.namespace}/${v.labels.pipeline}=${v.value}`).sort();
    };
    expect(await values()).toEqual(['a/fx=1', 'a/metals=0', 'b/fx=0', 'b/new=0']);
    cache = [pipeline('a', 'fx', 'False')];
    expect(await values()).toEqual(['a/fx=0']);
  });
});
