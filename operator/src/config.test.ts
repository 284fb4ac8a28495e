import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '../../workloads/src/runtime/config.js';
import { operatorEnv } from './config.js';

describe('operator configuration', () => {
  it('defaults to every namespace, leader election with controller-runtime timings, 2 workers', () => {
    expect(loadConfig(operatorEnv, {})).toMatchObject({
      WATCH_NAMESPACE: [],
      LEADER_ELECTION: true,
      LEADER_ELECTION_ID: 'market-pipeline-operator',
      LEADER_ELECTION_LEASE_DURATION_SECONDS: 15,
      LEADER_ELECTION_RENEW_DEADLINE_SECONDS: 10,
      LEADER_ELECTION_RETRY_PERIOD_SECONDS: 2,
      METRICS_PORT: 8080,
      WORKERS: 2,
      RESYNC_SECONDS: 600,
      SECRET_RECHECK_SECONDS: 30,
      WORKLOAD_COMMAND: 'market-pipeline',
    });
    // Kubernetes sets an empty value for an unset downward-API or Helm variable.
    expect(loadConfig(operatorEnv, { WATCH_NAMESPACE: '' }).WATCH_NAMESPACE).toEqual([]);
  });

  it('watches one namespace or a comma-separated list', () => {
    expect(loadConfig(operatorEnv, { WATCH_NAMESPACE: 'markets' }).WATCH_NAMESPACE).toEqual(['markets']);
    expect(loadConfig(operatorEnv, { WATCH_NAMESPACE: 'a, b,,c' }).WATCH_NAMESPACE).toEqual(['a', 'b', 'c']);
  });

  it('names a wrong variable', () => {
    expect(() => loadConfig(operatorEnv, { WATCH_NAMESPACE: 'Bad_NS', LEADER_ELECTION: 'maybe' })).toThrow(
      ConfigError,
    );
    try {
      loadConfig(operatorEnv, { LEADER_ELECTION_RENEW_DEADLINE_SECONDS: '20' });
    } catch (error) {
      expect((error as ConfigError).problems).toEqual([
        "LEADER_ELECTION_RENEW_DEADLINE_SECONDS ('20'): must be less than LEADER_ELECTION_LEASE_DURATION_SECONDS",
      ]);
      return;
    }
    throw new Error('expected a ConfigError');
  });
});
