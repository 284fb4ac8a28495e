// The scenario's target on a kind cluster (e2e/kind/run.sh): the chart's operator and dev
// servers (Services nats, timescaledb, clickhouse, with their Secrets) in one namespace,
// the example applied next to them, and the databases queried with `kubectl exec` into the
// dev servers' own clients (psql, clickhouse-client).
import type { V1Pod } from '@kubernetes/client-node';
import type { Kubectl } from '../kubectl.js';
import type { ManifestObject, PipelineObject, RunnerFailure, ScenarioTarget } from '../scenario.js';

export interface WorkloadImage {
  repository: string;
  tag: string;
}

/**
 * The example as a user of the chart's dev servers applies it: without examples/secrets.yaml
 * (the chart creates the `timescaledb` and `clickhouse` Secrets with the dev servers'
 * passwords; the placeholders would overwrite them), and with the workload image built and
 * loaded into kind (pullPolicy Never: a missing image fails as ErrImageNeverPull instead of
 * quietly pulling a published one). The Service addresses are the example's own.
 */
export function adaptExampleToKind(objects: ManifestObject[], image: WorkloadImage): ManifestObject[] {
  return objects
    .filter((o) => o.kind !== 'Secret')
    .map((o) =>
      o.kind === 'MarketPipeline'
        ? {
            ...o,
            spec: { ...(o as PipelineObject).spec, image: { ...image, pullPolicy: 'Never' } },
          }
        : o,
    );
}

/** Rows of JSONEachRow output (also what the psql wrapper below prints, one JSON array). */
export function parseJsonRows<T>(output: string): T[] {
  const text = output.trim();
  if (!text) return [];
  if (text.startsWith('[')) return JSON.parse(text) as T[];
  return text.split('\n').map((line) => JSON.parse(line) as T);
}

interface PipelineDatabases {
  postgres: string;
  clickhouse: string;
}

export class KindTarget implements ScenarioTarget {
  private databases: PipelineDatabases | undefined;

  constructor(
    readonly kubectl: Kubectl,
    private readonly image: WorkloadImage,
    /** The MarketPipeline's name: its pods are the scenario's to check, the others are ours. */
    private readonly pipelineName: string,
  ) {}

  adaptExample(objects: ManifestObject[]): ManifestObject[] {
    return adaptExampleToKind(objects, this.image);
  }

  async postgres<T>(sql: string): Promise<T[]> {
    const { postgres } = await this.pipelineDatabases();
    // Over the server's local socket, as the image's own user; the result as one JSON array.
    const out = await this.kubectl.run(
      [
        'exec',
        '-i',
        'deploy/timescaledb',
        '-c',
        'timescaledb',
        '--',
        'sh',
        '-c',
        `psql -X -A -t -q -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d '${postgres}'`,
      ],
      { input: `SELECT coalesce(json_agg(t), '[]'::json) FROM (${sql}) t;\n` },
    );
    return parseJsonRows<T>(out);
  }

  async clickhouse<T>(sql: string): Promise<T[]> {
    const { clickhouse } = await this.pipelineDatabases();
    const out = await this.kubectl.run(
      [
        'exec',
        '-i',
        'deploy/clickhouse',
        '-c',
        'clickhouse',
        '--',
        'sh',
        '-c',
        `clickhouse-client --password "$CLICKHOUSE_PASSWORD" --database '${clickhouse}' --format JSONEachRow`,
      ],
      { input: sql },
    );
    return parseJsonRows<T>(out);
  }

  async containerOutput(pod: string, container: string, previous: boolean): Promise<string> {
    return this.kubectl.run(['logs', pod, '-c', container, '--tail=60', ...(previous ? ['--previous'] : [])]);
  }

  /** The operator's and the dev servers' pods: a crash or restart there fails the run too. */
  async runnerFailures(): Promise<RunnerFailure[]> {
    const pods = await this.kubectl.json<{ items: V1Pod[] }>([
      'get',
      'pods',
      '-l',
      `app.kubernetes.io/instance!=${this.pipelineName}`,
    ]);
    const failures: RunnerFailure[] = [];
    for (const pod of pods.items) {
      for (const status of pod.status?.containerStatuses ?? []) {
        const waiting = status.state?.waiting?.reason;
        if (status.restartCount > 0 || (waiting && /Error|BackOff/.test(waiting))) {
          const logs = await this.containerOutput(
            pod.metadata!.name!,
            status.name,
            status.restartCount > 0,
          ).catch((e: Error) => e.message);
          failures.push({
            pod: pod.metadata!.name!,
            container: status.name,
            message: `pod ${pod.metadata!.name} (${status.name}): ${waiting ?? ''} ${status.restartCount} restarts; output:\n${logs}`,
          });
        }
      }
    }
    return failures;
  }

  log(message: string): void {
    console.log(`[e2e-kind] ${message}`);
  }

  /** The database names the MarketPipeline uses (the API server has filled in the defaults). */
  private async pipelineDatabases(): Promise<PipelineDatabases> {
    if (!this.databases) {
      const list = await this.kubectl.json<{
        items: { spec: { timescaledb: { database: string }; clickhouse: { database: string } } }[];
      }>(['get', 'mpl']);
      const spec = list.items[0]?.spec;
      if (!spec) throw new Error('no MarketPipeline in the namespace yet');
      this.databases = { postgres: spec.timescaledb.database, clickhouse: spec.clickhouse.database };
    }
    return this.databases;
  }
}
