// What one reconcile does, decided from the desired state and what was observed, without
// I/O: which objects to apply, which to hold back (and why), which to delete.
//
// Holding back, not deleting: a component whose Secret is missing, or which needs database
// tables the migrate Job has not yet created, is neither created nor updated; if it already
// exists it is left running as it is (deleting a working collector because someone is
// rotating a Secret would lose data). The condition and an Event say what it waits for, and
// the reconciler checks again (a missing Secret every ~30 s; a Job change arrives as an event).
import type { KubeObject, Kind } from '../kube/resources.js';
import type { SecretEnv } from '../render/env.js';
import { objectKey, type DesiredObject, type DesiredState } from '../render/desired.js';
import { ANNOTATION } from '../render/names.js';

export interface ObservedObject {
  kind: Kind;
  object: KubeObject;
}

/** Data keys present in each referenced Secret; undefined = the Secret does not exist. */
export type ObservedSecrets = Map<string, ReadonlySet<string> | undefined>;

export type SchemaState =
  | { phase: 'Absent' }
  | { phase: 'Outdated' }
  | { phase: 'Running' }
  | { phase: 'Succeeded' }
  | { phase: 'Failed'; reason: string; message: string };

export interface Hold {
  desired: DesiredObject;
  reason: 'SecretMissing' | 'WaitingForSchema';
  message: string;
}

export interface SecretProblem {
  ref: SecretEnv;
  message: string;
}

export interface Plan {
  apply: DesiredObject[];
  hold: Hold[];
  /** Owned objects the spec no longer wants. */
  prune: ObservedObject[];
  /** Owned objects to delete so they can be created anew (the migrate Job: its spec is immutable). */
  replace: ObservedObject[];
  secretProblems: SecretProblem[];
  schema: SchemaState;
}

interface JobLike {
  metadata: KubeObject['metadata'];
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

export function schemaState(job: KubeObject | undefined, desiredChecksum: string): SchemaState {
  if (!job) return { phase: 'Absent' };
  if (job.metadata.annotations?.[ANNOTATION.schemaChecksum] !== desiredChecksum) return { phase: 'Outdated' };
  const conditions = (job as JobLike).status?.conditions ?? [];
  const isTrue = (type: string) => conditions.find((c) => c.type === type && c.status === 'True');
  if (isTrue('Complete')) return { phase: 'Succeeded' };
  const failed = isTrue('Failed');
  if (failed) return { phase: 'Failed', reason: failed.reason ?? 'Failed', message: failed.message ?? '' };
  return { phase: 'Running' };
}

export function describeSecretProblem(ref: SecretEnv, secrets: ObservedSecrets): string | undefined {
  const keys = secrets.get(ref.ref.name);
  if (keys === undefined) {
    return `Secret ${ref.ref.name} (key ${ref.ref.key}) referenced by ${ref.field} does not exist`;
  }
  if (!keys.has(ref.ref.key)) {
    return `Secret ${ref.ref.name} has no key ${ref.ref.key} (referenced by ${ref.field})`;
  }
  return undefined;
}

export function planReconcile(
  desired: DesiredState,
  owned: ObservedObject[],
  secrets: ObservedSecrets,
): Plan {
  const migrate = desired.objects.find((d) => d.component === 'migrate')!;
  const migrateJob = owned.find(
    (o) => o.kind === 'Job' && o.object.metadata.name === migrate.object.metadata.name,
  );
  // A Job on its way out (deleted by us or by hand) is treated as outdated: nothing is
  // applied to it, and the next reconcile after it is gone creates the new one.
  const terminating = migrateJob?.object.metadata.deletionTimestamp !== undefined;
  const schema: SchemaState = terminating
    ? { phase: 'Outdated' }
    : schemaState(migrateJob?.object, desired.schemaChecksum);

  const problems = new Map<string, SecretProblem>();
  const apply: DesiredObject[] = [];
  const hold: Hold[] = [];
  for (const d of desired.objects) {
    const missing = d.secrets
      .map((ref) => ({ ref, message: describeSecretProblem(ref, secrets) }))
      .filter((p): p is SecretProblem => p.message !== undefined);
    for (const p of missing) problems.set(p.message, p);
    if (missing.length) {
      hold.push({ desired: d, reason: 'SecretMissing', message: missing.map((p) => p.message).join('; ') });
    } else if (d.needsSchema && schema.phase !== 'Succeeded') {
      hold.push({
        desired: d,
        reason: 'WaitingForSchema',
        message: `waiting for Job ${migrate.object.metadata.name} to apply the database schemas`,
      });
    } else if (d === migrate && schema.phase === 'Outdated') {
      // Deleted first (below); created by the next reconcile once it is gone.
    } else {
      apply.push(d);
    }
  }

  const wanted = new Set(desired.objects.map((d) => objectKey(d.kind, d.object.metadata.name!)));
  const live = owned.filter((o) => !o.object.metadata.deletionTimestamp);
  return {
    apply,
    hold,
    prune: live.filter((o) => !wanted.has(objectKey(o.kind, o.object.metadata.name!))),
    replace:
      schema.phase === 'Outdated' && migrateJob && !terminating && !hold.some((h) => h.desired === migrate)
        ? [migrateJob]
        : [],
    secretProblems: [...problems.values()],
    schema,
  };
}
