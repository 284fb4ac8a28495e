import { describe, expect, it } from '@jest/globals';
import { metricNames } from './promql-metrics.js';

describe('metricNames', () => {
  it('finds the selected metrics, not functions, keywords, labels, strings or durations', () => {
    const expr = `
      label_replace(
        (time() - max by (namespace, cronjob) (kube_cronjob_created{cronjob=~"a-(b|c)", x="y"}))
        > on (namespace) group_left (pipeline) 2 * sum without (pod) (rate(foo_total[5m] offset 1h)) + 1e3
        unless ignoring (job) bar == bool 1 or absent(baz{job="q"}),
        "pipeline", "$1", "cronjob", "(.+)-x"
      )`;
    expect([...metricNames(expr)].sort()).toEqual(['bar', 'baz', 'foo_total', 'kube_cronjob_created']);
  });

  it('finds a misspelt metric as it is written', () => {
    expect([...metricNames('market_pipeline_collector_websocket_readyy == 0')]).toEqual([
      'market_pipeline_collector_websocket_readyy',
    ]);
  });
});
