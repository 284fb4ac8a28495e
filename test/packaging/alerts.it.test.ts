// The chart's PrometheusRule against the real tools: rendered by helm, checked by
// `promtool check rules`, unit-tested by `promtool test rules` (fixtures/alerts.promtool-test.yaml:
// each alert fires when it should and stays quiet when it should), every metric it selects
// checked against the product's own registries, and a runbook entry per alert in the README.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { runTool } from '../support/cli-tools.js';
import { exportedMetrics, metricFamily } from './exported-metrics.js';
import { CHART, manifests, renderChart } from './helm-chart.js';
import { metricNames } from './promql-metrics.js';

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleGroup {
  name: string;
  rules: Rule[];
}

const FIXTURE = path.join(process.cwd(), 'test/packaging/fixtures/alerts.promtool-test.yaml');
const ENABLE = 'metrics.prometheusRule.enabled=true';

/**
 * Series the rules may use that the product does not export, each named on purpose:
 * kube-state-metrics' CronJob series (the operator's CronJobs are plain Kubernetes objects).
 */
const EXTERNAL = new Set([
  'kube_cronjob_status_last_successful_time',
  'kube_cronjob_status_last_schedule_time',
  'kube_cronjob_next_schedule_time',
  'kube_cronjob_created',
  'kube_cronjob_spec_suspend',
]);

const ALERTS = [
  'MarketPipelineSymbolSilent',
  'MarketPipelineCollectorDisconnected',
  'MarketPipelineBridgeLagGrowing',
  'MarketPipelineBridgeOldestUnackedTooOld',
  'MarketPipelineDeadLetters',
  'MarketPipelineCronJobLate',
  'MarketPipelineNotReady',
  'MarketPipelineOperatorNoLeader',
];

let dir: string;

async function ruleGroups(set: string[] = []): Promise<RuleGroup[]> {
  const objects = manifests(await renderChart('mp', 'market', { set: [ENABLE, ...set] }));
  const rules = objects.filter((o) => o.kind === 'PrometheusRule');
  expect(rules).toHaveLength(1);
  return (rules[0] as unknown as { spec: { groups: RuleGroup[] } }).spec.groups;
}

/** Writes the groups as a Prometheus rule file beside a copy of the promtool test file. */
function writeRules(groups: RuleGroup[], name = 'rules.yaml'): string {
  const file = path.join(dir, name);
  writeFileSync(file, stringify({ groups }));
  return file;
}

const allRules = (groups: RuleGroup[]) => groups.flatMap((g) => g.rules);

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'mp-alerts-'));
  copyFileSync(FIXTURE, path.join(dir, 'alerts.promtool-test.yaml'));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the PrometheusRule', () => {
  it('is rendered only when enabled, with every alert', async () => {
    const off = manifests(await renderChart('mp', 'market'));
    expect(off.filter((o) => o.kind === 'PrometheusRule')).toEqual([]);
    expect(allRules(await ruleGroups()).map((r) => r.alert)).toEqual(ALERTS);
  });

  it('passes promtool check rules (PromQL syntax, durations, templates)', async () => {
    const file = writeRules(await ruleGroups());
    const result = await runTool('promtool', ['check', 'rules', file]);
    expect({ code: result.code, out: result.stdout + result.stderr }).toEqual({
      code: 0,
      out: expect.stringContaining(`SUCCESS: ${ALERTS.length} rules found`),
    });
  });

  it('passes promtool test rules: each alert fires when it should, and not otherwise', async () => {
    writeRules(await ruleGroups());
    const result = await runTool('promtool', ['test', 'rules', path.join(dir, 'alerts.promtool-test.yaml')]);
    expect({ code: result.code, out: result.stdout + result.stderr }).toEqual({
      code: 0,
      out: expect.stringContaining('SUCCESS'),
    });
  });

  it('has a firing case for every alert in the promtool tests', () => {
    const tests = parse(readFileSync(FIXTURE, 'utf8')) as {
      tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
    };
    const firing = new Set(
      tests.tests.flatMap((t) =>
        t.alert_rule_test.filter((a) => a.exp_alerts.length).map((a) => a.alertname),
      ),
    );
    expect([...firing].sort()).toEqual([...ALERTS].sort());
  });

  it('the promtool tests can fail: a changed threshold breaks them', async () => {
    writeRules(await ruleGroups(['metrics.prometheusRule.symbolSilentSeconds=1200']));
    const result = await runTool('promtool', ['test', 'rules', path.join(dir, 'alerts.promtool-test.yaml')]);
    expect(result.code).not.toBe(0);
    expect(result.stdout + result.stderr).toContain('alertname: MarketPipelineSymbolSilent');
  });

  it('selects only metrics the operator and the workloads export (or named kube-state-metrics ones)', async () => {
    const exported = exportedMetrics();
    const used = new Set(allRules(await ruleGroups()).flatMap((r) => [...metricNames(r.expr)]));
    // The exact set, so a name the lexer missed or invented shows here.
    expect([...used].sort()).toEqual(
      [
        'market_pipeline_collector_last_quote_received_timestamp_seconds',
        'market_pipeline_collector_symbol_silent',
        'market_pipeline_collector_market_open',
        'market_pipeline_collector_websocket_ready',
        'market_pipeline_relay_source_ready',
        'market_pipeline_bridge_consumer_lag',
        'market_pipeline_bridge_oldest_unacked_age_seconds',
        'market_pipeline_bridge_dead_letters_total',
        'market_pipeline_collector_dead_lettered_total',
        'market_pipeline_operator_pipeline_ready',
        'leader_election_master_status',
        ...EXTERNAL,
      ].sort(),
    );
    const unknown = [...used].filter((name) => !exported.has(metricFamily(name)) && !EXTERNAL.has(name));
    expect(unknown).toEqual([]);
    // And the check does see a name that does not exist.
    expect(exported.has('market_pipeline_collector_websocket_connected')).toBe(false);
  });

  it('scopes pipeline alerts to the watched namespaces of a namespaced install, and still checks', async () => {
    const groups = await ruleGroups(['rbac.clusterWide=false', 'watchNamespaces={team-a,team-b}']);
    const silent = allRules(groups).find((r) => r.alert === 'MarketPipelineSymbolSilent')!;
    expect(silent.expr).toContain('market_pipeline_collector_market_open{namespace=~"team-a|team-b"}');
    const late = allRules(groups).find((r) => r.alert === 'MarketPipelineCronJobLate')!;
    expect(late.expr).toContain('namespace=~"team-a|team-b"');
    const result = await runTool('promtool', ['check', 'rules', writeRules(groups, 'namespaced.yaml')]);
    expect({ code: result.code, err: result.stderr }).toEqual({ code: 0, err: '' });
  });

  it('leaves out disabled alerts and adds ruleLabels to the others', async () => {
    const groups = await ruleGroups([
      'metrics.prometheusRule.disabled.MarketPipelineDeadLetters=true',
      'metrics.prometheusRule.ruleLabels.team=market-data',
    ]);
    const rules = allRules(groups);
    expect(rules.map((r) => r.alert)).toEqual(ALERTS.filter((a) => a !== 'MarketPipelineDeadLetters'));
    for (const rule of rules) expect(rule.labels).toMatchObject({ team: 'market-data' });
  });

  it('each alert links to its runbook entry in the chart README', async () => {
    const readme = readFileSync(path.join(CHART, 'README.md'), 'utf8');
    for (const rule of allRules(await ruleGroups())) {
      const anchor = rule.annotations?.runbook_url?.split('#')[1];
      expect({ alert: rule.alert, anchor }).toEqual({ alert: rule.alert, anchor: rule.alert.toLowerCase() });
      expect({ alert: rule.alert, heading: readme.includes(`\n#### ${rule.alert}\n`) }).toEqual({
        alert: rule.alert,
        heading: true,
      });
    }
  });
});
