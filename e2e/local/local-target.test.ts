import { describe, expect, it } from '@jest/globals';
import { readExample, scenarioManifest } from '../scenario.js';
import { adaptExampleToLocalServers } from './local-target.js';

const servers = {
  natsUrl: 'nats://127.0.0.1:40000',
  postgres: { host: '127.0.0.1', port: 15432, database: 'it_x', user: 'suho_service', password: 'pg-pass' },
  clickhouse: { url: 'http://127.0.0.1:18123', database: 'it_x', user: 'default', password: 'ch-pass' },
};

describe('the simulator example adapted to the local servers', () => {
  it('changes only addresses, databases, users and the referenced passwords', () => {
    const example = scenarioManifest(readExample(process.cwd()));
    const adapted = adaptExampleToLocalServers(example, servers);
    expect(adapted.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(
      example.map((o) => `${o.kind}/${o.metadata.name}`),
    );
    const pipeline = adapted.find((o) => o.kind === 'MarketPipeline') as unknown as {
      spec: Record<string, Record<string, unknown>>;
    };
    const original = example.find((o) => o.kind === 'MarketPipeline') as unknown as typeof pipeline;
    expect(pipeline.spec.nats).toEqual({ url: servers.natsUrl });
    expect(pipeline.spec.timescaledb).toEqual({
      ...original.spec.timescaledb,
      host: '127.0.0.1',
      port: 15432,
      database: 'it_x',
      user: 'suho_service',
    });
    expect(pipeline.spec.clickhouse).toEqual({
      ...original.spec.clickhouse,
      url: 'http://127.0.0.1:18123',
      database: 'it_x',
      user: 'default',
    });
    for (const field of ['symbols', 'timeframes', 'source', 'backfill'])
      expect(pipeline.spec[field]).toEqual(original.spec[field]);
    const password = (name: string) =>
      (
        adapted.find((o) => o.kind === 'Secret' && o.metadata.name === name)!.stringData as {
          password: string;
        }
      ).password;
    expect([password('timescaledb'), password('clickhouse')]).toEqual(['pg-pass', 'ch-pass']);
  });

  it('refuses an example that needs Kafka when no Kafka server is configured', () => {
    const example = scenarioManifest(readExample(process.cwd())).map((o) =>
      o.kind === 'MarketPipeline'
        ? { ...o, spec: { ...(o.spec as object), kafka: { brokers: ['k:9092'] } } }
        : o,
    );
    expect(() => adaptExampleToLocalServers(example, servers)).toThrow(/uses Kafka/);
  });
});
