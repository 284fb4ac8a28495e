// Reading a metric from an in-process prom-client registry, for the tests that run a
// workload in the test's own process.
import type { Registry } from 'prom-client';

/** Sum of a metric's values over the series whose labels include `labels` (a histogram's own samples only: _bucket/_sum/_count are other names). */
export async function metricValue(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
    .filter((v) => !('metricName' in v) || v.metricName === undefined || v.metricName === name)
    .reduce((sum, v) => sum + v.value, 0);
}
