// The chart's files against the code they describe, without helm: the CRD copy, the
// operator's environment, the dashboard's metric names, and Chart.yaml's images and
// Artifact Hub annotations.
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { operatorEnv } from '../../operator/src/config.js';
import { DEFAULT_WORKLOAD_IMAGE } from '../../operator/src/render/pod.js';
import { exportedMetrics, metricFamily } from './exported-metrics.js';

const root = process.cwd();
const chart = path.join(root, 'helm/market-pipeline');
const read = (file: string) => readFileSync(file, 'utf8');

describe('chart CRD', () => {
  it('files/crds/ is an exact copy of crds/ (run `npm run gen:crd` or scripts/sync-chart-crds.sh)', () => {
    const source = readdirSync(path.join(root, 'crds')).filter((f) => f.endsWith('.yaml'));
    const copy = readdirSync(path.join(chart, 'files/crds')).filter((f) => f.endsWith('.yaml'));
    expect(copy.sort()).toEqual(source.sort());
    for (const file of source) {
      expect(read(path.join(chart, 'files/crds', file))).toBe(read(path.join(root, 'crds', file)));
    }
  });
});

describe('operator Deployment', () => {
  it('sets only environment variables the operator reads', () => {
    const template = read(path.join(chart, 'templates/deployment.yaml'));
    const names = [...template.matchAll(/^\s+- name: ([A-Z][A-Z0-9_]+)$/gm)].map((m) => m[1]!);
    expect(names).toEqual(expect.arrayContaining(['WATCH_NAMESPACE', 'LEADER_ELECTION', 'POD_NAMESPACE']));
    const known = Object.keys(operatorEnv.shape);
    for (const name of names) expect({ name, known: known.includes(name) }).toEqual({ name, known: true });
  });
});

describe('Grafana dashboard', () => {
  const dashboard = JSON.parse(read(path.join(chart, 'dashboards/market-pipeline.json'))) as {
    uid: string;
    panels: { title: string; targets: { expr: string }[] }[];
  };
  const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));

  it('queries only metrics that exist (histograms by their _bucket series)', () => {
    const exported = exportedMetrics();
    const used = new Set(
      exprs.flatMap((e) => [...e.matchAll(/\b(market_pipeline_[a-z_]+)/g)].map((m) => m[1]!)),
    );
    expect(used.size).toBeGreaterThanOrEqual(6);
    for (const name of used) {
      const family = metricFamily(name);
      expect({ name, exported: exported.has(family) }).toEqual({ name, exported: true });
    }
  });

  it('shows ticks/s per symbol, bridge lag, oldest unacked age and write latency, DLQ counts, reconnects and aggregator age', () => {
    const all = exprs.join('\n');
    expect(all).toMatch(/sum by \(symbol\) \(rate\(market_pipeline_collector_quotes_received_total/);
    expect(all).toContain('market_pipeline_bridge_consumer_lag');
    expect(all).toContain('market_pipeline_bridge_oldest_unacked_age_seconds');
    expect(all).toMatch(/histogram_quantile\(0\.99, .*market_pipeline_bridge_write_duration_seconds_bucket/);
    expect(all).toContain('market_pipeline_bridge_dead_letters_total');
    expect(all).toContain('market_pipeline_collector_dead_lettered_total');
    expect(all).toContain('market_pipeline_collector_reconnects_total');
    // kube-state-metrics: the CronJob names are the operator's <pipeline>-aggregator-<tf>.
    expect(all).toMatch(
      /time\(\) - .*kube_cronjob_status_last_successful_time\{[^}]*cronjob=~"\(\$pipeline\)-aggregator-\.\+"/,
    );
    expect(dashboard.uid).toBe('market-pipeline');
  });
});

describe('ci/ values files', () => {
  it('cover cluster-wide, namespaced, dev servers and monitoring (ServiceMonitor, PrometheusRule) installs', () => {
    expect(readdirSync(path.join(chart, 'ci')).sort()).toEqual([
      'cluster-wide-values.yaml',
      'dev-values.yaml',
      'monitoring-values.yaml',
      'namespaced-values.yaml',
    ]);
  });
});

describe('Chart.yaml', () => {
  const chartYaml = parse(read(path.join(chart, 'Chart.yaml'))) as {
    appVersion: string;
    annotations: Record<string, string>;
  };
  const values = parse(read(path.join(chart, 'values.yaml'))) as {
    image: { repository: string };
    workloadImage: { repository: string; tag: string };
  };
  const annotation = <T>(key: string) => parse(chartYaml.annotations[`artifacthub.io/${key}`]!) as T;

  it('defaults both images to the appVersion, which is the operator default workload image', () => {
    expect(values.workloadImage.tag).toBe('');
    expect(DEFAULT_WORKLOAD_IMAGE).toEqual({
      repository: values.workloadImage.repository,
      tag: chartYaml.appVersion,
    });
    expect(annotation<{ name: string; image: string }[]>('images')).toEqual([
      { name: 'operator', image: `${values.image.repository}:${chartYaml.appVersion}` },
      { name: 'workloads', image: `${values.workloadImage.repository}:${chartYaml.appVersion}` },
    ]);
  });

  it('has the Artifact Hub annotations: license, operator, prerelease, CRD examples from examples/', () => {
    const pkg = JSON.parse(read(path.join(root, 'package.json'))) as { license: string; version: string };
    expect(chartYaml.annotations['artifacthub.io/license']).toBe(pkg.license);
    expect(chartYaml.annotations['artifacthub.io/operator']).toBe('true');
    expect(chartYaml.annotations['artifacthub.io/prerelease']).toBe(
      String(/^0\./.test(chartYaml.appVersion)),
    );
    const examples = parseAllDocuments(read(path.join(root, 'examples/simulator.yaml'))).map((d) => d.toJS());
    expect(annotation('crdsExamples')).toEqual(examples.filter((d) => d.kind === 'MarketPipeline'));
  });
});
