// The scenario's target on the local test servers: kubectl on the test API server, the
// example adapted to the local servers, the run's own PostgreSQL and ClickHouse databases,
// and the process kubelet's and the operator's view of failures.
import type { ClickHouseClient } from '@clickhouse/client';
import type pg from 'pg';
import type { Logger } from '../../workloads/src/runtime/logger.js';
import type { Kubectl } from '../kubectl.js';
import type { ManifestObject, PipelineObject, RunnerFailure, ScenarioTarget } from '../scenario.js';
import type { OperatorProcess } from './operator-process.js';
import type { ProcessKubelet } from './process-kubelet.js';

export interface LocalServers {
  natsUrl: string;
  /** Needed only when the example archives to Kafka. */
  kafkaBrokers?: string[];
  postgres: { host: string; port: number; database: string; user: string; password: string };
  clickhouse: { url: string; database: string; user: string; password: string };
}

interface SecretRef {
  name: string;
  key: string;
}

/**
 * The example pointed at the local servers: the same objects with the addresses, database
 * names and users of this run, and the referenced Secrets holding the test passwords.
 * Generated from examples/ on every run, so it cannot drift from the example.
 */
export function adaptExampleToLocalServers(
  objects: ManifestObject[],
  servers: LocalServers,
): ManifestObject[] {
  const pipeline = objects.find((o): o is PipelineObject => o.kind === 'MarketPipeline');
  if (!pipeline) throw new Error('the example has no MarketPipeline');
  const spec = pipeline.spec as PipelineObject['spec'] & {
    timescaledb: { passwordSecretRef: SecretRef };
    clickhouse: { passwordSecretRef?: SecretRef };
    kafka?: Record<string, unknown>;
  };
  const passwords = new Map<string, string>([
    [secretKey(spec.timescaledb.passwordSecretRef), servers.postgres.password],
    ...(spec.clickhouse.passwordSecretRef
      ? [[secretKey(spec.clickhouse.passwordSecretRef), servers.clickhouse.password] as [string, string]]
      : []),
  ]);
  return objects.map((o): ManifestObject => {
    if (o === pipeline) {
      const { host, port, database, user } = servers.postgres;
      return {
        ...o,
        spec: {
          ...spec,
          nats: { ...(spec.nats as object), url: servers.natsUrl },
          timescaledb: { ...spec.timescaledb, host, port, database, user },
          clickhouse: {
            ...spec.clickhouse,
            url: servers.clickhouse.url,
            database: servers.clickhouse.database,
            user: servers.clickhouse.user,
          },
          ...(spec.kafka
            ? { kafka: { ...spec.kafka, brokers: required('Kafka', servers.kafkaBrokers) } }
            : {}),
        },
      };
    }
    if (o.kind === 'Secret') {
      const stringData = { ...(o.stringData as Record<string, string>) };
      for (const key of Object.keys(stringData)) {
        const password = passwords.get(secretKey({ name: o.metadata.name, key }));
        if (password !== undefined) stringData[key] = password;
      }
      return { ...o, stringData };
    }
    return o;
  });
}

const secretKey = (ref: SecretRef) => `${ref.name}/${ref.key}`;

function required<T>(server: string, value: T | undefined): T {
  if (value === undefined)
    throw new Error(`the example uses ${server}, but no ${server} test server is configured`);
  return value;
}

export class LocalTarget implements ScenarioTarget {
  constructor(
    readonly kubectl: Kubectl,
    private readonly servers: LocalServers,
    private readonly pool: pg.Pool,
    private readonly ch: ClickHouseClient,
    private readonly kubelet: ProcessKubelet,
    private readonly operator: OperatorProcess,
    private readonly logger: Logger,
    private readonly logDir: string,
  ) {}

  adaptExample(objects: ManifestObject[]): ManifestObject[] {
    return adaptExampleToLocalServers(objects, this.servers);
  }

  async postgres<T>(sql: string): Promise<T[]> {
    return (await this.pool.query(sql)).rows as T[];
  }

  async clickhouse<T>(sql: string): Promise<T[]> {
    return (await this.ch.query({ query: sql, format: 'JSONEachRow' })).json<T>();
  }

  async containerOutput(pod: string, container: string, previous: boolean): Promise<string> {
    return this.kubelet.outputOf(pod, container, previous);
  }

  async runnerFailures(): Promise<RunnerFailure[]> {
    const failures: RunnerFailure[] = this.kubelet.failures.map((f) => ({
      pod: f.pod,
      container: f.container,
      message:
        `pod ${f.pod} container ${f.container}: ${f.message}` +
        (f.output ? `; output:\n${f.output}` : '') +
        `\n(all output: ${this.logDir})`,
    }));
    const operator = this.operator.failure();
    return operator ? [...failures, { message: operator }] : failures;
  }

  log(message: string): void {
    this.logger.info(message);
  }
}
