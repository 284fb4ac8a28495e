// A fresh PostgreSQL database and a fresh ClickHouse database per test file, on the shared
// test servers, so that parallel test files never see each other's rows; dropped afterwards.
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import pg from 'pg';
import { reach, requireEnv, uniqueSuffix } from './servers.js';

export interface TestDatabases {
  /** Environment of the workloads (TIMESCALEDB_*, CLICKHOUSE_*) pointing at the fresh databases. */
  env: Record<string, string>;
  pgDatabase: string;
  chDatabase: string;
  /** Pool on the fresh PostgreSQL database. */
  pg: pg.Pool;
  /** Client on the fresh ClickHouse database (which exists only once migrate created it). */
  ch: ClickHouseClient;
  drop(): Promise<void>;
}

export function sharedServerEnv(): Record<string, string> {
  return {
    TIMESCALEDB_HOST: requireEnv('PostgreSQL', 'TIMESCALEDB_HOST'),
    TIMESCALEDB_PORT: requireEnv('PostgreSQL', 'TIMESCALEDB_PORT'),
    TIMESCALEDB_DATABASE: requireEnv('PostgreSQL', 'TIMESCALEDB_DATABASE'),
    TIMESCALEDB_USER: requireEnv('PostgreSQL', 'TIMESCALEDB_USER'),
    TIMESCALEDB_PASSWORD: requireEnv('PostgreSQL', 'TIMESCALEDB_PASSWORD'),
    CLICKHOUSE_HOST: requireEnv('ClickHouse', 'CLICKHOUSE_HOST'),
    CLICKHOUSE_PORT: requireEnv('ClickHouse', 'CLICKHOUSE_PORT'),
    CLICKHOUSE_USER: requireEnv('ClickHouse', 'CLICKHOUSE_USER'),
    CLICKHOUSE_PASSWORD: requireEnv('ClickHouse', 'CLICKHOUSE_PASSWORD'),
    CLICKHOUSE_DATABASE: requireEnv('ClickHouse', 'CLICKHOUSE_DATABASE'),
  };
}

export function clickhouseClient(
  env: Record<string, string>,
  database = env.CLICKHOUSE_DATABASE,
): ClickHouseClient {
  return createClient({
    url: `http://${env.CLICKHOUSE_HOST}:${env.CLICKHOUSE_PORT}`,
    username: env.CLICKHOUSE_USER,
    password: env.CLICKHOUSE_PASSWORD,
    database,
    log: { level: ClickHouseLogLevel.OFF },
  });
}

export function pgConfig(env: Record<string, string>): pg.PoolConfig {
  return {
    host: env.TIMESCALEDB_HOST,
    port: Number(env.TIMESCALEDB_PORT),
    database: env.TIMESCALEDB_DATABASE,
    user: env.TIMESCALEDB_USER,
    password: env.TIMESCALEDB_PASSWORD,
  };
}

/** Creates it_<suffix> on both servers (ClickHouse: only the name; migrate creates it unless `createClickHouse`). */
export async function createTestDatabases(
  options: { createClickHouse?: boolean } = {},
): Promise<TestDatabases> {
  const shared = sharedServerEnv();
  const name = `it_${uniqueSuffix()}`;
  const admin = new pg.Client({ ...pgConfig(shared), connectionTimeoutMillis: 5000 });
  await reach('PostgreSQL', `${shared.TIMESCALEDB_HOST}:${shared.TIMESCALEDB_PORT}`, () => admin.connect());
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const chAdmin = clickhouseClient(shared, 'default');
  await reach('ClickHouse', `${shared.CLICKHOUSE_HOST}:${shared.CLICKHOUSE_PORT}`, async () => {
    const ping = await chAdmin.ping();
    if (!ping.success) throw ping.error;
  });
  if (options.createClickHouse) await chAdmin.command({ query: `CREATE DATABASE ${name}` });
  const env = { ...shared, TIMESCALEDB_DATABASE: name, CLICKHOUSE_DATABASE: name };
  const pool = new pg.Pool({ ...pgConfig(env), max: 3 });
  pool.on('error', () => undefined);
  const ch = clickhouseClient(env);
  return {
    env,
    pgDatabase: name,
    chDatabase: name,
    pg: pool,
    ch,
    async drop() {
      await pool.end().catch(() => undefined);
      await ch.close().catch(() => undefined);
      const dropper = new pg.Client(pgConfig(shared));
      await dropper.connect();
      try {
        await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await dropper.end();
      }
      await chAdmin.command({ query: `DROP DATABASE IF EXISTS ${name}` });
      await chAdmin.close();
    },
  };
}
