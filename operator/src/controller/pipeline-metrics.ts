// Per-MarketPipeline health as a metric, read from the informer cache at each scrape, so an
// alert can say "this pipeline has not been Ready for 15 minutes" without kube-state-metrics
// custom-resource configuration. Only the leader has a filled cache: a standby exports no
// series, so alerts take the max over the operator's replicas.
//
// The label is `namespace` as kube-state-metrics has it: the chart's ServiceMonitor scrapes
// the operator with honorLabels, so it is not renamed to exported_namespace.
import { Gauge, type Registry } from 'prom-client';
import type { MarketPipeline } from '../crd/spec.js';
import { CONDITION } from '../reconcile/status.js';

export const PIPELINE_READY_METRIC = 'market_pipeline_operator_pipeline_ready';

type PipelineLike = Pick<MarketPipeline, 'metadata' | 'status'>;

export function createPipelineMetrics(registry: Registry, pipelines: () => Iterable<PipelineLike>) {
  return {
    ready: new Gauge({
      name: PIPELINE_READY_METRIC,
      help: "1 while the MarketPipeline's Ready condition is True, 0 otherwise (False, Unknown or not yet written)",
      labelNames: ['namespace', 'pipeline'],
      registers: [registry],
      collect() {
        // Reset first: a deleted pipeline's series must disappear, not stay at its last value.
        this.reset();
        for (const p of pipelines()) {
          const ready = p.status?.conditions?.find((c) => c.type === CONDITION.ready);
          this.set(
            { namespace: p.metadata.namespace ?? '', pipeline: p.metadata.name ?? '' },
            ready?.status === 'True' ? 1 : 0,
          );
        }
      },
    }),
  };
}
