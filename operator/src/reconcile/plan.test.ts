import { describe, expect, it } from '@jest/globals';
import { makePipeline, polygonSource } from '../../test/support/pipelines.js';
import type { KubeObject } from '../kube/resources.js';
import { desiredState, type DesiredState } from '../render/desired.js';
import { ANNOTATION } from '../render/names.js';
import { planReconcile, schemaState, type ObservedObject, type ObservedSecrets } from './plan.js';

const allSecrets: ObservedSecrets = new Map([
  ['timescaledb', new Set(['password'])],
  ['clickhouse', new Set(['password'])],
  ['polygon', new Set(['apiKey'])],
]);

function migrateJob(
  state: DesiredState,
  conditions: { type: string; status: string; reason?: string; message?: string }[],
  checksum = state.schemaChecksum,
): ObservedObject {
  return {
    kind: 'Job',
    object: {
      metadata: { name: 'fx-migrate', annotations: { [ANNOTATION.schemaChecksum]: checksum } },
      status: { conditions },
    } as KubeObject,
  };
}

const complete = [{ type: 'Complete', status: 'True' }];
const keys = (objs: { kind: string; object: KubeObject }[]) =>
  objs.map((o) => `${o.kind}/${o.object.metadata.name}`).sort();
const owned = (
  kind: ObservedObject['kind'],
  name: string,
  extra: Partial<KubeObject['metadata']> = {},
): ObservedObject => ({
  kind,
  object: { metadata: { name, ...extra } },
});

describe('reconcile plan', () => {
  it('applies everything once the schema is in place and every Secret exists', () => {
    const state = desiredState(makePipeline());
    const plan = planReconcile(state, [migrateJob(state, complete)], allSecrets);
    expect(plan.hold).toEqual([]);
    expect(plan.apply).toHaveLength(state.objects.length);
    expect(plan.prune).toEqual([]);
    expect(plan.replace).toEqual([]);
    expect(plan.schema).toEqual({ phase: 'Succeeded' });
  });

  it('holds what needs the schema until the migrate Job succeeds, and starts the migration', () => {
    const state = desiredState(makePipeline({ timeframes: ['5m'] }));
    const plan = planReconcile(state, [], allSecrets);
    expect(plan.schema).toEqual({ phase: 'Absent' });
    expect(plan.hold.map((h) => [`${h.desired.kind}/${h.desired.object.metadata.name}`, h.reason])).toEqual([
      ['Deployment/fx-bridge', 'WaitingForSchema'],
      ['CronJob/fx-aggregator-5m', 'WaitingForSchema'],
      ['CronJob/fx-backfill', 'WaitingForSchema'],
    ]);
    expect(plan.hold[0]!.message).toBe('waiting for Job fx-migrate to apply the database schemas');
    expect(keys(plan.apply)).toContain('Job/fx-migrate');
    expect(keys(plan.apply)).toContain('Deployment/fx-collector');
    expect(planReconcile(state, [migrateJob(state, [])], allSecrets).schema).toEqual({ phase: 'Running' });
  });

  it('does not start the collector without its Secret, and says which Secret and field', () => {
    const state = desiredState(makePipeline({ source: polygonSource }));
    const secrets: ObservedSecrets = new Map([...allSecrets, ['polygon', undefined]]);
    const plan = planReconcile(state, [migrateJob(state, complete)], secrets);
    const message =
      'Secret polygon (key apiKey) referenced by spec.source.polygon.apiKeySecretRef does not exist';
    expect(plan.secretProblems.map((p) => p.message)).toEqual([message]);
    expect(plan.hold.map((h) => [h.desired.component, h.reason, h.message])).toEqual([
      ['collector', 'SecretMissing', message],
      ['backfill', 'SecretMissing', message],
    ]);
    expect(keys(plan.apply)).toContain('Deployment/fx-bridge');
  });

  it('reports a Secret without the referenced key', () => {
    const state = desiredState(makePipeline());
    const secrets: ObservedSecrets = new Map([...allSecrets, ['timescaledb', new Set(['pass'])]]);
    const plan = planReconcile(state, [], secrets);
    expect(plan.secretProblems.map((p) => p.message)).toEqual([
      'Secret timescaledb has no key password (referenced by spec.timescaledb.passwordSecretRef)',
    ]);
    // The migration itself needs it, so nothing that touches the databases starts.
    expect(plan.hold.map((h) => h.desired.component).sort()).toEqual(
      [
        'aggregator',
        'aggregator',
        'aggregator',
        'aggregator',
        'aggregator',
        'aggregator',
        'aggregator',
        'backfill',
        'bridge',
        'migrate',
      ].sort(),
    );
    expect(plan.replace).toEqual([]);
  });

  it('prunes owned objects the spec no longer wants, and never held or terminating ones', () => {
    const state = desiredState(makePipeline({ source: polygonSource, timeframes: ['5m'] }));
    const observed = [
      migrateJob(state, complete),
      owned('CronJob', 'fx-aggregator-5m'),
      owned('CronJob', 'fx-aggregator-1h'),
      owned('Deployment', 'fx-simulator'),
      owned('Service', 'fx-simulator'),
      owned('CronJob', 'fx-aggregator-4h', { deletionTimestamp: '2024-01-01T00:00:00Z' }),
      owned('Deployment', 'fx-collector'),
    ];
    const secrets: ObservedSecrets = new Map([...allSecrets, ['polygon', undefined]]);
    const plan = planReconcile(state, observed, secrets);
    expect(keys(plan.prune)).toEqual([
      'CronJob/fx-aggregator-1h',
      'Deployment/fx-simulator',
      'Service/fx-simulator',
    ]);
    expect(plan.hold.map((h) => h.desired.object.metadata.name)).toContain('fx-collector');
  });

  it('replaces a migrate Job made for another schema version, holding the bridge meanwhile', () => {
    const state = desiredState(makePipeline());
    const old = migrateJob(state, complete, 'old-checksum');
    const plan = planReconcile(state, [old], allSecrets);
    expect(plan.schema).toEqual({ phase: 'Outdated' });
    expect(plan.replace).toEqual([old]);
    expect(keys(plan.apply)).not.toContain('Job/fx-migrate');
    expect(plan.hold.map((h) => h.desired.object.metadata.name)).toContain('fx-bridge');

    // While it is being deleted: nothing applied to it, not deleted twice.
    const going = migrateJob(state, complete);
    going.object.metadata.deletionTimestamp = '2024-01-01T00:00:00Z';
    const next = planReconcile(state, [going], allSecrets);
    expect(next.replace).toEqual([]);
    expect(keys(next.apply)).not.toContain('Job/fx-migrate');
  });

  it('reads the migrate Job conditions', () => {
    const state = desiredState(makePipeline());
    const job = (conditions: { type: string; status: string; reason?: string; message?: string }[]) =>
      schemaState(migrateJob(state, conditions).object, state.schemaChecksum);
    expect(job([{ type: 'Complete', status: 'True' }])).toEqual({ phase: 'Succeeded' });
    expect(
      job([
        {
          type: 'Failed',
          status: 'True',
          reason: 'BackoffLimitExceeded',
          message: 'Job has reached the specified backoff limit',
        },
      ]),
    ).toEqual({
      phase: 'Failed',
      reason: 'BackoffLimitExceeded',
      message: 'Job has reached the specified backoff limit',
    });
    expect(job([{ type: 'Complete', status: 'False' }])).toEqual({ phase: 'Running' });
    expect(schemaState(undefined, 'x')).toEqual({ phase: 'Absent' });
  });
});
