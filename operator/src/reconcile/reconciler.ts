// Reconcile one MarketPipeline (level-triggered: from its key alone, whatever happened):
// read it from the cache, render the desired objects, observe the referenced Secrets and the
// owned objects, then apply (server-side apply, one field manager), hold back, replace and
// prune as planned, write the status, and record Events for what changed or failed.
import { reasonOf } from '../../../workloads/src/runtime/failure.js';
import type { Logger } from '../../../workloads/src/runtime/logger.js';
import { specSchema, type MarketPipeline, type MarketPipelineStatus } from '../crd/spec.js';
import { TerminalError, type Result } from '../controller/controller.js';
import { FIELD_MANAGER, KubeApiError, type KubeClient } from '../kube/client.js';
import { controllerOf, type KubeObject, type ManagedFieldsEntry } from '../kube/resources.js';
import { desiredState, objectKey } from '../render/desired.js';
import { childName } from '../render/names.js';
import type { RenderOptions } from '../render/pod.js';
import type { EventSink, EventTarget } from './events.js';
import { planReconcile, schemaState, type ObservedObject, type ObservedSecrets } from './plan.js';
import { computeStatus, type ApplyFailure } from './status.js';
import { pipelinesSharingPolygonKey, polygonKeyFingerprint, sharedKeyMessage } from './polygon-key.js';
import { resolveRelaySource } from './relay-source.js';
import { rfc3339 } from '../kube/time.js';

export interface PipelineCache {
  get(namespace: string, name: string): MarketPipeline | undefined;
  /** Every MarketPipeline of a namespace (to find two that share a Polygon key). `get` also
   * reads a relay's source pipeline, in any watched namespace. */
  list(namespace: string): MarketPipeline[];
}

export interface OwnedCache {
  /** Every owned object in the namespace (any owner), with its kind. */
  list(namespace: string): ObservedObject[];
}

export interface ReconcilerOptions {
  render: RenderOptions;
  /** How often to look again for a missing Secret (no Secret watch: see README). */
  secretRecheckMs: number;
  now?: () => Date;
}

/** Time to wait while the previous migrate Job is being deleted. */
const REPLACE_RECHECK_MS = 2000;

function target(p: MarketPipeline): EventTarget {
  return {
    apiVersion: p.apiVersion ?? 'marketdata.suho.io/v1alpha1',
    kind: 'MarketPipeline',
    name: p.metadata.name,
    namespace: p.metadata.namespace,
    uid: p.metadata.uid,
  };
}

function errorMessage(error: unknown): string {
  if (error instanceof KubeApiError) return error.apiMessage || error.message;
  return reasonOf(error);
}

/** Our server-side-apply entry in managedFields: it changes only when our apply changed something. */
function ownEntry(obj: KubeObject | undefined): string | undefined {
  const entry = obj?.metadata.managedFields?.find(
    (m: ManagedFieldsEntry) => m.manager === FIELD_MANAGER && m.operation === 'Apply' && !m.subresource,
  );
  return entry && JSON.stringify(entry);
}

export class PipelineReconciler {
  constructor(
    private readonly client: KubeClient,
    private readonly pipelines: PipelineCache,
    private readonly owned: OwnedCache,
    private readonly events: EventSink,
    private readonly log: Logger,
    private readonly options: ReconcilerOptions,
  ) {}

  readonly reconcile = async (key: string): Promise<Result> => {
    const [namespace, name] = key.split('/') as [string, string];
    const cached = this.pipelines.get(namespace, name);
    // Gone: the garbage collector removes the owned objects (controller ownerReferences).
    if (!cached || cached.metadata.deletionTimestamp) return {};

    const parsed = specSchema.safeParse(cached.spec);
    if (!parsed.success) {
      // The API server validated it, so this means a CRD older or newer than the operator.
      const message = parsed.error.issues.map((i) => `spec.${i.path.join('.')}: ${i.message}`).join('; ');
      this.events.record(target(cached), 'Warning', 'InvalidSpec', message);
      await this.writeStatus(cached, {
        ...cached.status,
        observedGeneration: cached.metadata.generation,
        conditions: [
          {
            type: 'Ready',
            status: 'False',
            reason: 'InvalidSpec',
            message,
            lastTransitionTime: this.now(),
            observedGeneration: cached.metadata.generation,
          },
        ],
      });
      throw new TerminalError(`invalid spec of ${key}: ${message}`);
    }
    const pipeline: MarketPipeline = { ...cached, spec: parsed.data };
    const relaySource = resolveRelaySource(pipeline, (ns, n) => this.pipelines.get(ns, n));
    const desired = desiredState(
      pipeline,
      this.options.render,
      relaySource?.ok ? { pipelineId: relaySource.pipelineId, tenantId: relaySource.tenantId } : undefined,
    );
    if (relaySource && !relaySource.ok) {
      this.events.record(target(pipeline), 'Warning', relaySource.reason, relaySource.message);
    }
    const owned = this.owned
      .list(namespace)
      .filter((o) => controllerOf(o.object)?.uid === pipeline.metadata.uid);
    const secrets = await this.observeSecrets(
      namespace,
      desired.objects.flatMap((d) => d.secrets.map((s) => s.ref.name)),
    );
    const plan = planReconcile(desired, owned, secrets);

    for (const problem of plan.secretProblems) {
      this.events.record(target(pipeline), 'Warning', 'SecretMissing', problem.message);
    }
    if (plan.schema.phase === 'Failed') {
      this.events.record(
        target(pipeline),
        'Warning',
        'MigrationFailed',
        `Job ${childName.migrate(name)} failed: ${plan.schema.message || plan.schema.reason}`,
      );
    }

    const neighbours = this.pipelines.list(namespace);
    const fingerprints = pipeline.spec.source.polygon
      ? await this.polygonKeyFingerprints(namespace, [pipeline, ...neighbours])
      : new Map<string, string>();
    const sharingKey = pipelinesSharingPolygonKey(pipeline, neighbours, (uid) => fingerprints.get(uid));
    if (sharingKey.length) {
      this.events.record(
        target(pipeline),
        'Warning',
        'PolygonKeyShared',
        sharedKeyMessage(pipeline.spec.source.polygon!.apiKeySecretRef, sharingKey),
      );
    }

    const observed = new Map(owned.map((o) => [objectKey(o.kind, o.object.metadata.name!), o.object]));
    const failures: ApplyFailure[] = [];

    // Deletes one owned object; either way the reconcile goes on, a failure is reported in status.
    const deleteOwned = async (o: ObservedObject, reason: string, why: string): Promise<void> => {
      const objName = o.object.metadata.name!;
      try {
        await this.client.delete(o.kind, namespace, objName, 'Background');
        observed.delete(objectKey(o.kind, objName));
        this.events.record(target(pipeline), 'Normal', reason, `Deleted ${o.kind} ${objName}${why}`);
      } catch (error) {
        const message = errorMessage(error);
        failures.push({ kind: o.kind, name: objName, message });
        this.events.record(
          target(pipeline),
          'Warning',
          'DeleteFailed',
          `Could not delete ${o.kind} ${objName}: ${message}`,
        );
      }
    };

    for (const old of plan.replace) {
      await deleteOwned(old, 'Replacing', ' to run it again with the new spec');
    }

    // Services before the pods that name them: a pod started before its Service exists gets
    // no service environment variables (and a runner that resolves Services when a process
    // starts, as the local e2e's, none at all), so its first connections fail.
    const applyOrder = [
      ...plan.apply.filter((d) => d.kind === 'Service'),
      ...plan.apply.filter((d) => d.kind !== 'Service'),
    ];
    for (const d of applyOrder) {
      const objName = d.object.metadata.name!;
      const k = objectKey(d.kind, objName);
      const before = observed.get(k);
      try {
        const after = await this.client.apply(d.object);
        observed.set(k, after);
        if (!before) {
          this.events.record(target(pipeline), 'Normal', 'Created', `Created ${d.kind} ${objName}`);
        } else if (ownEntry(before) !== ownEntry(after)) {
          this.events.record(target(pipeline), 'Normal', 'Updated', `Updated ${d.kind} ${objName}`);
        }
      } catch (error) {
        const message = errorMessage(error);
        failures.push({ kind: d.kind, name: objName, message });
        this.events.record(
          target(pipeline),
          'Warning',
          'ApplyFailed',
          `Could not apply ${d.kind} ${objName}: ${message}`,
        );
      }
    }

    for (const stale of plan.prune) {
      await deleteOwned(stale, 'Deleted', ': the spec no longer asks for it');
    }

    // A migrate Job created just now is running, not absent: say so without waiting for its event.
    const migrateName = childName.migrate(name);
    const schema =
      plan.schema.phase === 'Absent'
        ? schemaState(observed.get(objectKey('Job', migrateName)), desired.schemaChecksum)
        : plan.schema;
    const status = computeStatus({
      name,
      generation: pipeline.metadata.generation ?? 0,
      spec: pipeline.spec,
      desired,
      plan: { ...plan, schema },
      observed,
      failures,
      sharingPolygonKey: sharingKey,
      relaySource,
      previous: cached.status,
      now: this.now(),
    });
    await this.writeStatus(cached, status);

    if (failures.length) {
      throw new Error(failures.map((f) => `${f.kind} ${f.name}: ${f.message}`).join('; '));
    }
    if (plan.secretProblems.length) return { requeueAfterMs: this.options.secretRecheckMs };
    if (plan.replace.length || plan.schema.phase === 'Outdated')
      return { requeueAfterMs: REPLACE_RECHECK_MS };
    return {};
  };

  private now(): string {
    return rfc3339((this.options.now?.() ?? new Date()).getTime());
  }

  /**
   * Which data keys each referenced Secret has. Only the key names leave this function:
   * the values are dropped at once and never logged, stored or copied.
   */
  private async observeSecrets(namespace: string, names: string[]): Promise<ObservedSecrets> {
    const result: ObservedSecrets = new Map();
    for (const secretName of new Set(names)) {
      const secret = await this.client.get<KubeObject & { data?: Record<string, string> }>(
        'Secret',
        namespace,
        secretName,
      );
      result.set(secretName, secret ? new Set(Object.keys(secret.data ?? {})) : undefined);
    }
    return result;
  }

  /**
   * sha256 of each polygon pipeline's key value, by uid (polygon-key.ts): two Secrets with the
   * same key are two collectors on one key. Only the digest leaves this function; a Secret
   * that cannot be read yields no digest (the same-Secret check still applies).
   */
  private async polygonKeyFingerprints(
    namespace: string,
    pipelines: readonly MarketPipeline[],
  ): Promise<Map<string, string>> {
    const result = new Map<string, string>();
    for (const p of pipelines) {
      const ref = p.spec?.source?.polygon?.apiKeySecretRef;
      if (!ref || p.metadata.deletionTimestamp || result.has(p.metadata.uid)) continue;
      const secret = await this.client
        .get<KubeObject & { data?: Record<string, string> }>('Secret', namespace, ref.name)
        .catch(() => undefined);
      const digest = polygonKeyFingerprint(secret?.data?.[ref.key]);
      if (digest) result.set(p.metadata.uid, digest);
    }
    return result;
  }

  /** Writes the status through the /status subresource when it changed (no write, no event loop). */
  private async writeStatus(pipeline: MarketPipeline, status: MarketPipelineStatus): Promise<void> {
    const previous = (pipeline.status ?? {}) as Record<string, unknown>;
    const next = status as Record<string, unknown>;
    if (JSON.stringify(sortDeep(previous)) === JSON.stringify(sortDeep(next))) return;
    // A merge patch replaces arrays whole and removes the top-level fields set to null.
    const patch: Record<string, unknown> = { ...next };
    for (const field of Object.keys(previous)) if (!(field in next)) patch[field] = null;
    await this.client.patch(
      'MarketPipeline',
      pipeline.metadata.namespace,
      pipeline.metadata.name,
      { status: patch },
      {
        subresource: 'status',
        fieldManager: FIELD_MANAGER,
      },
    );
    this.log.debug(
      { pipeline: `${pipeline.metadata.namespace}/${pipeline.metadata.name}` },
      'status updated',
    );
  }
}

function sortDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortDeep);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, sortDeep(v)]),
    );
  }
  return value;
}
