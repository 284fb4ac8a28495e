import { describe, expect, it } from '@jest/globals';
import { makePipeline, polygonSource } from '../../test/support/pipelines.js';
import type { KubeObject } from '../kube/resources.js';
import { desiredState, objectKey } from '../render/desired.js';
import { ANNOTATION } from '../render/names.js';
import { planReconcile, type ObservedObject, type ObservedSecrets } from './plan.js';
import { computeStatus, withTransitionTimes, type StatusInput } from './status.js';

const secrets: ObservedSecrets = new Map([
  ['timescaledb', new Set(['password'])],
  ['clickhouse', new Set(['password'])],
  ['polygon', new Set(['apiKey'])],
]);

function deployment(name: string, replicas: number, available: number, generation = 2): ObservedObject {
  return {
    kind: 'Deployment',
    object: {
      metadata: { name, generation },
      spec: { replicas },
      status: {
        observedGeneration: generation,
        replicas,
        updatedReplicas: replicas,
        readyReplicas: available,
        availableReplicas: available,
      },
    },
  };
}

function cronJob(name: string, status: Record<string, unknown> = {}): ObservedObject {
  return { kind: 'CronJob', object: { metadata: { name }, status } };
}

/** A pipeline whose objects all exist; `tweak` edits the observed set before computing. */
function statusOf(
  overrides: Parameters<typeof makePipeline>[0] = {},
  tweak: (observed: ObservedObject[]) => ObservedObject[] = (o) => o,
  extra: Partial<StatusInput> = {},
  observedSecrets = secrets,
) {
  const pipeline = makePipeline({ timeframes: ['5m', '1h'], ...overrides });
  const desired = desiredState(pipeline);
  const base: ObservedObject[] = [
    {
      kind: 'Job',
      object: {
        metadata: {
          name: 'fx-migrate',
          annotations: { [ANNOTATION.schemaChecksum]: desired.schemaChecksum },
        },
        status: { conditions: [{ type: 'Complete', status: 'True' }] },
      },
    },
    deployment('fx-collector', 1, 1),
    deployment('fx-bridge', pipeline.spec.bridge.replicas, pipeline.spec.bridge.replicas),
    deployment('fx-simulator', 1, 1),
    cronJob('fx-aggregator-5m', {
      lastScheduleTime: '2024-05-01T10:05:00Z',
      lastSuccessfulTime: '2024-05-01T10:05:09Z',
      active: [{}],
    }),
    cronJob('fx-aggregator-1h', { lastScheduleTime: '2024-05-01T10:00:00Z' }),
    cronJob('fx-backfill', { lastSuccessfulTime: '2024-05-01T09:15:40Z' }),
  ];
  const observedList = tweak(base);
  const plan = planReconcile(desired, observedList, observedSecrets);
  return computeStatus({
    name: 'fx',
    generation: 3,
    spec: pipeline.spec,
    desired,
    plan,
    observed: new Map(
      observedList.map((o) => [objectKey(o.kind, o.object.metadata.name!), o.object as KubeObject]),
    ),
    failures: [],
    previous: undefined,
    now: '2024-05-01T10:06:00Z',
    ...extra,
  });
}

const condition = (status: ReturnType<typeof statusOf>, type: string) =>
  status.conditions!.find((c) => c.type === type)!;

describe('status', () => {
  it('is Ready when every part is, with per-component replicas and the last runs', () => {
    const status = statusOf({ bridge: { replicas: 2 } });
    expect(status.observedGeneration).toBe(3);
    expect(status.conditions!.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Ready', 'True', 'AllComponentsReady'],
      ['SchemaReady', 'True', 'MigrationSucceeded'],
      ['CollectorReady', 'True', 'Available'],
      ['BridgeReady', 'True', 'Available'],
      ['SimulatorReady', 'True', 'Available'],
      ['AggregatorsScheduled', 'True', 'Scheduled'],
      ['BackfillScheduled', 'True', 'Scheduled'],
    ]);
    for (const c of status.conditions!) {
      expect(c).toMatchObject({ observedGeneration: 3, lastTransitionTime: '2024-05-01T10:06:00Z' });
    }
    expect(status.collector).toEqual({ desired: 1, ready: 1, available: 1 });
    expect(status.bridge).toEqual({ desired: 2, ready: 2, available: 2 });
    expect(status.aggregators).toEqual([
      {
        timeframe: '5m',
        lastScheduleTime: '2024-05-01T10:05:00Z',
        lastSuccessfulTime: '2024-05-01T10:05:09Z',
        active: 1,
      },
      { timeframe: '1h', lastScheduleTime: '2024-05-01T10:00:00Z', active: 0 },
    ]);
    expect(status.backfill).toEqual({ lastSuccessfulTime: '2024-05-01T09:15:40Z', active: 0 });
  });

  it('names the failing part in Ready when a Deployment is not available', () => {
    const status = statusOf({ bridge: { replicas: 2 } }, (o) =>
      o.map((x) => (x.object.metadata.name === 'fx-bridge' ? deployment('fx-bridge', 2, 1) : x)),
    );
    expect(condition(status, 'BridgeReady')).toMatchObject({
      status: 'False',
      reason: 'Unavailable',
      message: 'Deployment fx-bridge: 1/2 replicas available',
    });
    expect(condition(status, 'Ready')).toMatchObject({
      status: 'False',
      reason: 'Unavailable',
      message: 'BridgeReady: Deployment fx-bridge: 1/2 replicas available',
    });
    expect(status.bridge).toEqual({ desired: 2, ready: 1, available: 1 });
  });

  it('says a rollout is in progress until the new template is everywhere', () => {
    const status = statusOf({}, (o) =>
      o.map((x) => {
        if (x.object.metadata.name !== 'fx-collector') return x;
        const d = deployment('fx-collector', 1, 1, 5);
        (d.object.status as Record<string, unknown>).observedGeneration = 4;
        return d;
      }),
    );
    expect(condition(status, 'CollectorReady')).toMatchObject({ status: 'False', reason: 'RollingOut' });
  });

  it('names another pipeline using the same Polygon key as the cause, and is not Ready', () => {
    const shared = statusOf({ source: polygonSource }, (o) => o, { sharingPolygonKey: ['fx-b'] });
    const key = shared.conditions!.find((c) => c.type === 'PolygonKeyExclusive')!;
    expect(key).toMatchObject({ status: 'False', reason: 'PolygonKeyShared' });
    expect(key.message).toMatch(
      /MarketPipeline fx-b also uses the Polygon key in Secret polygon \(key apiKey\)/,
    );
    expect(key.message).toMatch(/max_connections/);
    expect(shared.conditions!.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'PolygonKeyShared',
    });
    const alone = statusOf({ source: polygonSource });
    expect(alone.conditions!.find((c) => c.type === 'PolygonKeyExclusive')).toMatchObject({ status: 'True' });
    // The simulator has no key to share: no such condition.
    expect(statusOf().conditions!.some((c) => c.type === 'PolygonKeyExclusive')).toBe(false);
  });

  it('reports a missing Secret as the reason, with the field that references it', () => {
    const status = statusOf(
      { source: polygonSource },
      (o) => o.filter((x) => x.object.metadata.name !== 'fx-collector'),
      {},
      new Map([...secrets, ['polygon', undefined]]),
    );
    const message =
      'Secret polygon (key apiKey) referenced by spec.source.polygon.apiKeySecretRef does not exist';
    expect(condition(status, 'CollectorReady')).toMatchObject({
      status: 'False',
      reason: 'SecretMissing',
      message,
    });
    expect(condition(status, 'Ready')).toMatchObject({ status: 'False', reason: 'SecretMissing' });
    expect(condition(status, 'Ready').message).toContain(`CollectorReady: ${message}`);
    expect(condition(status, 'BackfillScheduled')).toMatchObject({
      status: 'False',
      reason: 'SecretMissing',
    });
    expect(status.simulator).toBeUndefined();
    expect(condition(status, 'SimulatorReady')).toBeUndefined();
  });

  it('waits for the schema, then reports a failed migration with what to do', () => {
    const running = statusOf({}, (o) =>
      o.map((x) => (x.kind === 'Job' ? { ...x, object: { ...x.object, status: { conditions: [] } } } : x)),
    );
    expect(condition(running, 'SchemaReady')).toMatchObject({ status: 'False', reason: 'MigrationRunning' });
    expect(condition(running, 'BridgeReady')).toMatchObject({ status: 'False', reason: 'WaitingForSchema' });
    expect(condition(running, 'AggregatorsScheduled')).toMatchObject({
      status: 'False',
      reason: 'WaitingForSchema',
    });
    expect(condition(running, 'Ready').reason).toBe('MigrationRunning');

    const failed = statusOf({}, (o) =>
      o.map((x) =>
        x.kind === 'Job'
          ? {
              ...x,
              object: {
                ...x.object,
                status: {
                  conditions: [
                    { type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'too many' },
                  ],
                },
              },
            }
          : x,
      ),
    );
    expect(condition(failed, 'SchemaReady')).toMatchObject({
      status: 'False',
      reason: 'MigrationFailed',
      message:
        'Job fx-migrate failed (BackoffLimitExceeded: too many); fix the cause (see its pod logs), then delete the Job to run it again',
    });
  });

  it('reports CronJobs not created yet', () => {
    const status = statusOf({}, (o) => o.filter((x) => x.object.metadata.name !== 'fx-aggregator-1h'));
    expect(condition(status, 'AggregatorsScheduled')).toMatchObject({
      status: 'False',
      reason: 'NotCreated',
      message: 'CronJob fx-aggregator-1h does not exist yet',
    });
  });

  it('does not count a deliberately suspended backfill against Ready', () => {
    const status = statusOf({ backfill: { suspend: true } });
    expect(condition(status, 'BackfillScheduled')).toMatchObject({ status: 'False', reason: 'Suspended' });
    expect(condition(status, 'Ready').status).toBe('True');
  });

  it('puts apply failures first in Ready', () => {
    const status = statusOf({}, (o) => o, {
      failures: [{ kind: 'Deployment', name: 'fx-bridge', message: 'admission webhook denied it' }],
    });
    expect(condition(status, 'Ready')).toMatchObject({
      status: 'False',
      reason: 'ApplyFailed',
      message: 'Deployment fx-bridge: admission webhook denied it',
    });
  });

  it('moves lastTransitionTime only when a condition changes status', () => {
    const previous = [
      {
        type: 'A',
        status: 'True' as const,
        reason: 'X',
        message: 'm',
        lastTransitionTime: '2024-01-01T00:00:00Z',
      },
      {
        type: 'B',
        status: 'False' as const,
        reason: 'Y',
        message: 'm',
        lastTransitionTime: '2024-01-01T00:00:00Z',
      },
    ];
    const next = withTransitionTimes(
      [
        { type: 'A', status: 'True', reason: 'Other', message: 'changed text' },
        { type: 'B', status: 'True', reason: 'Y', message: 'm' },
        { type: 'C', status: 'Unknown', reason: 'Z', message: '' },
      ],
      previous,
      7,
      '2024-06-01T00:00:00Z',
    );
    expect(next.map((c) => [c.type, c.lastTransitionTime, c.observedGeneration])).toEqual([
      ['A', '2024-01-01T00:00:00Z', 7],
      ['B', '2024-06-01T00:00:00Z', 7],
      ['C', '2024-06-01T00:00:00Z', 7],
    ]);
  });
});
