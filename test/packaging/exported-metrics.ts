// Every metric family the operator and the workloads export, from their own registries, so
// that the chart's dashboard and alert rules can be checked against what really exists: a
// renamed metric fails those tests instead of silently matching nothing.
import { Registry } from 'prom-client';
import { createControllerMetrics } from '../../operator/src/controller/metrics.js';
import { createPipelineMetrics } from '../../operator/src/controller/pipeline-metrics.js';
import { createBridgeMetrics } from '../../workloads/src/bridge/metrics.js';
import { createCollectorMetrics } from '../../workloads/src/collector/metrics.js';
import { createRelayMetrics } from '../../workloads/src/relay/relay.js';
import { createSimulatorMetrics } from '../../workloads/src/simulator/metrics.js';

export function exportedMetrics(): Set<string> {
  const registry = new Registry();
  createBridgeMetrics(registry);
  createCollectorMetrics(registry, {
    symbolStats: () => [],
    bufferDepth: () => 0,
    silent: () => false,
    connected: () => false,
    marketOpen: () => false,
    published: () => ({ confirmed: 0, duplicates: 0 }),
  });
  createControllerMetrics(registry);
  createPipelineMetrics(registry, () => []);
  createSimulatorMetrics(registry);
  createRelayMetrics(registry, { sourceReady: () => false });
  return new Set(registry.getMetricsAsArray().map((m) => m.name));
}

/** The family of a series name: histograms and summaries are queried by their _bucket/_sum/_count series. */
export function metricFamily(series: string): string {
  return series.replace(/_(bucket|sum|count)$/, '');
}
