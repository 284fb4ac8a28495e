// The MarketPipeline's status, computed from the plan and the observed objects (pure).
// Conditions follow Kubernetes' metav1.Condition conventions: status True/False/Unknown,
// a CamelCase reason for machines and `kubectl get`, a message for people, and a
// lastTransitionTime that moves only when the status itself changes.
import type { Timeframe } from '../../../workloads/src/contracts/timeframes.js';
import type { Condition, MarketPipelineSpec, MarketPipelineStatus } from '../crd/spec.js';
import type { KubeObject, Kind } from '../kube/resources.js';
import { backfillWithoutKey, objectKey, type DesiredState } from '../render/desired.js';
import { childName } from '../render/names.js';
import type { Hold, Plan } from './plan.js';
import { sharedKeyMessage } from './polygon-key.js';
import type { RelayResolution } from './relay-source.js';

export const CONDITION = {
  schema: 'SchemaReady',
  collector: 'CollectorReady',
  bridge: 'BridgeReady',
  simulator: 'SimulatorReady',
  /** With a polygon source: no other pipeline's collector uses the same key (polygon-key.ts). */
  polygonKey: 'PolygonKeyExclusive',
  /** With a relay source: the source pipeline exists and collects this one's symbols (relay-source.ts). */
  relaySource: 'RelaySourceReady',
  aggregators: 'AggregatorsScheduled',
  backfill: 'BackfillScheduled',
  ready: 'Ready',
} as const;

type ConditionInput = Pick<Condition, 'type' | 'status' | 'reason' | 'message'>;

export interface ApplyFailure {
  kind: Kind;
  name: string;
  message: string;
}

export interface StatusInput {
  name: string;
  generation: number;
  spec: MarketPipelineSpec;
  desired: DesiredState;
  plan: Plan;
  /** Latest known version of each owned object, by objectKey(kind, name). */
  observed: Map<string, KubeObject>;
  failures: ApplyFailure[];
  /** Other pipelines whose collectors use the same Polygon key (polygon-key.ts). */
  sharingPolygonKey?: string[];
  /** A relay's source, resolved (relay-source.ts); undefined when not a relay. */
  relaySource?: RelayResolution | undefined;
  previous: MarketPipelineStatus | undefined;
  /** RFC 3339 time of this reconcile, for lastTransitionTime. */
  now: string;
}

interface DeploymentLike {
  metadata: KubeObject['metadata'];
  spec?: { replicas?: number };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

interface CronJobLike {
  metadata: KubeObject['metadata'];
  status?: { lastScheduleTime?: string; lastSuccessfulTime?: string; active?: unknown[] };
}

interface ComponentResult {
  condition: Omit<ConditionInput, 'type'>;
  replicas?: { desired: number; ready: number; available: number };
}

function held(plan: Plan, kind: Kind, name: string): Hold | undefined {
  return plan.hold.find((h) => h.desired.kind === kind && h.desired.object.metadata.name === name);
}

function deploymentResult(input: StatusInput, name: string, desiredReplicas: number): ComponentResult {
  const dep = input.observed.get(objectKey('Deployment', name)) as DeploymentLike | undefined;
  const status = dep?.status ?? {};
  const replicas = {
    desired: desiredReplicas,
    ready: status.readyReplicas ?? 0,
    available: status.availableReplicas ?? 0,
  };
  const hold = held(input.plan, 'Deployment', name);
  if (hold) return { condition: { status: 'False', reason: hold.reason, message: hold.message }, replicas };
  if (!dep) {
    return {
      condition: { status: 'False', reason: 'NotCreated', message: `Deployment ${name} does not exist yet` },
    };
  }
  const stuck = status.conditions?.find(
    (c) => c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded',
  );
  if (stuck) {
    return {
      condition: {
        status: 'False',
        reason: 'RolloutStuck',
        message: `Deployment ${name}: ${stuck.message ?? ''}`,
      },
      replicas,
    };
  }
  if (
    (status.observedGeneration ?? 0) < (dep.metadata.generation ?? 0) ||
    (status.updatedReplicas ?? 0) < desiredReplicas
  ) {
    return {
      condition: {
        status: 'False',
        reason: 'RollingOut',
        message: `Deployment ${name}: ${status.updatedReplicas ?? 0} of ${desiredReplicas} replicas updated`,
      },
      replicas,
    };
  }
  if (replicas.available < desiredReplicas) {
    return {
      condition: {
        status: 'False',
        reason: 'Unavailable',
        message: `Deployment ${name}: ${replicas.available}/${desiredReplicas} replicas available`,
      },
      replicas,
    };
  }
  return {
    condition: {
      status: 'True',
      reason: 'Available',
      message: `Deployment ${name}: ${replicas.available}/${desiredReplicas} replicas available`,
    },
    replicas,
  };
}

function schemaCondition(input: StatusInput): Omit<ConditionInput, 'type'> {
  const job = childName.migrate(input.name);
  const hold = held(input.plan, 'Job', job);
  if (hold) return { status: 'False', reason: hold.reason, message: hold.message };
  const schema = input.plan.schema;
  switch (schema.phase) {
    case 'Succeeded':
      return {
        status: 'True',
        reason: 'MigrationSucceeded',
        message: `Job ${job} applied the database schemas`,
      };
    case 'Failed':
      return {
        status: 'False',
        reason: 'MigrationFailed',
        message:
          `Job ${job} failed (${schema.reason}${schema.message ? `: ${schema.message}` : ''}); ` +
          `fix the cause (see its pod logs), then delete the Job to run it again`,
      };
    case 'Outdated':
      return {
        status: 'False',
        reason: 'MigrationPending',
        message: `Job ${job} is being replaced to apply the new schema version`,
      };
    case 'Absent':
      return { status: 'False', reason: 'MigrationPending', message: `Job ${job} is being created` };
    case 'Running':
      return {
        status: 'False',
        reason: 'MigrationRunning',
        message: `Job ${job} is applying the database schemas`,
      };
  }
}

function polygonKeyCondition(input: StatusInput): Omit<ConditionInput, 'type'> {
  const others = input.sharingPolygonKey ?? [];
  if (!others.length) {
    return {
      status: 'True',
      reason: 'NotShared',
      message: 'no other MarketPipeline in this namespace uses the same Polygon key Secret',
    };
  }
  return {
    status: 'False',
    reason: 'PolygonKeyShared',
    message: sharedKeyMessage(input.spec.source.polygon!.apiKeySecretRef, others),
  };
}

function cronJobs(input: StatusInput, names: string[], what: string): Omit<ConditionInput, 'type'> {
  const holds = names.map((n) => held(input.plan, 'CronJob', n)).filter((h): h is Hold => h !== undefined);
  if (holds.length) return { status: 'False', reason: holds[0]!.reason, message: holds[0]!.message };
  const missing = names.filter((n) => !input.observed.has(objectKey('CronJob', n)));
  if (missing.length) {
    return {
      status: 'False',
      reason: 'NotCreated',
      message: `CronJob ${missing.join(', ')} does not exist yet`,
    };
  }
  return { status: 'True', reason: 'Scheduled', message: `${what} scheduled` };
}

function scheduleOf(input: StatusInput, name: string) {
  const cj = input.observed.get(objectKey('CronJob', name)) as CronJobLike | undefined;
  if (!cj) return undefined;
  const s = cj.status ?? {};
  return {
    ...(s.lastScheduleTime ? { lastScheduleTime: s.lastScheduleTime } : {}),
    ...(s.lastSuccessfulTime ? { lastSuccessfulTime: s.lastSuccessfulTime } : {}),
    active: s.active?.length ?? 0,
  };
}

/** Keeps lastTransitionTime when the status did not change (Kubernetes' meta.SetStatusCondition). */
export function withTransitionTimes(
  conditions: ConditionInput[],
  previous: Condition[] | undefined,
  generation: number,
  now: string,
): Condition[] {
  return conditions.map((c) => {
    const before = previous?.find((p) => p.type === c.type);
    return {
      ...c,
      message: c.message.slice(0, 32768),
      lastTransitionTime: before && before.status === c.status ? before.lastTransitionTime : now,
      observedGeneration: generation,
    };
  });
}

export function computeStatus(input: StatusInput): MarketPipelineStatus {
  const { name, spec } = input;
  const collector = deploymentResult(input, childName.collector(name), 1);
  const bridge = deploymentResult(input, childName.bridge(name), spec.bridge.replicas);
  const simulator = spec.source.simulator ? deploymentResult(input, childName.simulator(name), 1) : undefined;
  const aggregatorNames = spec.timeframes.map((tf) => childName.aggregator(name, tf));
  const backfillSuspended = spec.backfill.suspend || backfillWithoutKey(spec);
  const relay = input.relaySource;

  const parts: ConditionInput[] = [
    { type: CONDITION.schema, ...schemaCondition(input) },
    { type: CONDITION.collector, ...collector.condition },
    { type: CONDITION.bridge, ...bridge.condition },
    ...(simulator ? [{ type: CONDITION.simulator, ...simulator.condition }] : []),
    ...(spec.source.polygon ? [{ type: CONDITION.polygonKey, ...polygonKeyCondition(input) }] : []),
    ...(relay
      ? [
          {
            type: CONDITION.relaySource,
            status: relay.ok ? ('True' as const) : ('False' as const),
            reason: relay.ok ? 'SourceReady' : relay.reason,
            message: relay.message,
          },
        ]
      : []),
    {
      type: CONDITION.aggregators,
      ...cronJobs(input, aggregatorNames, `aggregator CronJobs for ${spec.timeframes.join(', ')}`),
    },
    {
      type: CONDITION.backfill,
      ...(backfillSuspended && !held(input.plan, 'CronJob', childName.backfill(name))
        ? {
            status: 'False' as const,
            reason: 'Suspended',
            message: spec.backfill.suspend
              ? 'spec.backfill.suspend is true'
              : 'a relay without spec.source.relay.polygonRest has no Polygon REST key to fill gaps with',
          }
        : cronJobs(input, [childName.backfill(name)], 'backfill CronJob')),
    },
  ];

  // Ready summarises the rest; a deliberately suspended backfill does not make it False.
  const failing = parts.filter(
    (c) => c.status !== 'True' && !(c.type === CONDITION.backfill && c.reason === 'Suspended'),
  );
  let ready: ConditionInput;
  if (input.failures.length) {
    ready = {
      type: CONDITION.ready,
      status: 'False',
      reason: 'ApplyFailed',
      message: input.failures.map((f) => `${f.kind} ${f.name}: ${f.message}`).join('; '),
    };
  } else if (failing.length) {
    ready = {
      type: CONDITION.ready,
      status: 'False',
      reason: failing[0]!.reason,
      message: failing.map((c) => `${c.type}: ${c.message}`).join('; '),
    };
  } else {
    ready = {
      type: CONDITION.ready,
      status: 'True',
      reason: 'AllComponentsReady',
      message: 'schemas applied, collector and bridge available, aggregators and backfill scheduled',
    };
  }

  const aggregators = spec.timeframes.flatMap((tf: Timeframe) => {
    const s = scheduleOf(input, childName.aggregator(name, tf));
    return s ? [{ timeframe: tf, ...s }] : [];
  });
  const backfill = scheduleOf(input, childName.backfill(name));
  return {
    observedGeneration: input.generation,
    conditions: withTransitionTimes(
      [ready, ...parts],
      input.previous?.conditions,
      input.generation,
      input.now,
    ),
    ...(collector.replicas ? { collector: collector.replicas } : {}),
    ...(bridge.replicas ? { bridge: bridge.replicas } : {}),
    ...(simulator?.replicas ? { simulator: simulator.replicas } : {}),
    ...(aggregators.length ? { aggregators } : {}),
    ...(backfill ? { backfill } : {}),
  };
}
