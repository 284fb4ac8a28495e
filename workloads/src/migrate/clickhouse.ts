// The ClickHouse half of `migrate`: create the database, apply schemas/clickhouse/*.sql
// one statement per request (the HTTP interface takes one), record them, reconcile the
// TTL of `aggregates` to CLICKHOUSE_RETENTION_DAYS and of `ticks` to
// CLICKHOUSE_TICKS_RETENTION_DAYS, and verify engine, sorting key, TTL, columns and the
// stats views against the live database.
import type { ClickHouseClient } from '@clickhouse/client';
import type { Logger } from '../runtime/logger.js';
import type { SchemaFile } from './schema-files.js';
import { splitSqlStatements } from './split-statements.js';
import { SchemaDriftError, type AppliedFile } from './ledger.js';

export interface ClickHouseMigrateResult {
  databaseCreated: boolean;
  applied: AppliedFile[];
  skipped: string[];
  reconciled: string[];
}

/** Days each table keeps its rows (its TTL). */
export interface ClickHouseRetention {
  aggregatesDays: number;
  ticksDays: number;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Creates `database` through a client connected to `default` (the target may not exist yet). */
export async function ensureClickHouseDatabase(admin: ClickHouseClient, database: string): Promise<boolean> {
  if (!IDENTIFIER.test(database))
    throw new Error(`CLICKHOUSE_DATABASE '${database}' is not a plain identifier`);
  const existing = await admin.query({
    query: 'SELECT name FROM system.databases WHERE name = {db:String}',
    query_params: { db: database },
    format: 'JSONEachRow',
  });
  if ((await existing.json()).length > 0) return false;
  await admin.command({ query: `CREATE DATABASE IF NOT EXISTS \`${database}\`` });
  return true;
}

const LEDGER_DDL = `CREATE TABLE IF NOT EXISTS schema_migrations
(
    file       String,
    sha256     String,
    applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY (file, applied_at)`;

export async function migrateClickHouse(
  ch: ClickHouseClient,
  files: SchemaFile[],
  retention: ClickHouseRetention,
  log: Logger,
): Promise<Omit<ClickHouseMigrateResult, 'databaseCreated'>> {
  await ch.command({ query: LEDGER_DDL });
  const ledgerRows = await ch.query({
    query: 'SELECT file, sha256 FROM schema_migrations',
    format: 'JSONEachRow',
  });
  const ledger = await ledgerRows.json<{ file: string; sha256: string }>();
  const result = { applied: [] as AppliedFile[], skipped: [] as string[], reconciled: [] as string[] };
  for (const file of files) {
    const history = ledger.filter((l) => l.file === file.name);
    if (history.some((l) => l.sha256 === file.sha256)) {
      result.skipped.push(file.name);
      continue;
    }
    // No transactions in ClickHouse: a file interrupted halfway is simply applied again
    // next time (every statement is IF NOT EXISTS), as it was not recorded.
    for (const statement of splitSqlStatements(file.sql)) {
      try {
        await ch.command({ query: statement });
      } catch (error) {
        throw new Error(
          `applying schemas/clickhouse/${file.name} failed at "${statement.slice(0, 80)}...": ${(error as Error).message}`,
          { cause: error },
        );
      }
    }
    await ch.insert({
      table: 'schema_migrations',
      format: 'JSONEachRow',
      values: [{ file: file.name, sha256: file.sha256 }],
    });
    const changed = history.length > 0;
    if (changed) log.warn({ file: file.name }, 'schema file changed since it was applied; re-applied it');
    result.applied.push({ file: file.name, sha256: file.sha256, changed });
  }
  for (const [table, days] of [
    ['aggregates', retention.aggregatesDays],
    ['ticks', retention.ticksDays],
  ] as const) {
    const ttl = await reconcileTtl(ch, table, days, log);
    if (ttl) result.reconciled.push(ttl);
  }
  await verifyClickHouse(ch, retention);
  return result;
}

interface TableRow {
  name: string;
  engine: string;
  engine_full: string;
  sorting_key: string;
}

async function readTables(ch: ClickHouseClient): Promise<Map<string, TableRow>> {
  const rs = await ch.query({
    query:
      'SELECT name, engine, engine_full, sorting_key FROM system.tables WHERE database = currentDatabase()',
    format: 'JSONEachRow',
  });
  return new Map((await rs.json<TableRow>()).map((t) => [t.name, t]));
}

/** The TTL clause of engine_full, e.g. "toDateTime(timestamp) + toIntervalDay(3650)". */
export function ttlOf(engineFull: string): string | undefined {
  return / TTL (.+?)(?: SETTINGS |$)/.exec(engineFull)?.[1];
}

const TTL_SHAPE = /^toDateTime\(timestamp\) \+ toIntervalDay\((\d+)\)$/;

/**
 * Sets the TTL when only its number of days differs from the configuration. A TTL of any
 * other shape (another column, a DELETE WHERE, none) was changed by hand: verify reports it.
 */
async function reconcileTtl(
  ch: ClickHouseClient,
  name: 'aggregates' | 'ticks',
  days: number,
  log: Logger,
): Promise<string | undefined> {
  const table = (await readTables(ch)).get(name);
  const ttl = table && ttlOf(table.engine_full);
  const current = ttl && TTL_SHAPE.exec(ttl);
  if (!current || Number(current[1]) === days) return undefined;
  // Runs as a mutation that re-evaluates the TTL on existing parts (materialize_ttl_after_modify).
  await ch.command({
    query: `ALTER TABLE ${name} MODIFY TTL toDateTime(timestamp) + INTERVAL ${days} DAY`,
  });
  log.info({ table: name, fromDays: Number(current[1]), toDays: days }, `changed the TTL of ${name}`);
  return `${name} TTL: ${current[1]} -> ${days} days`;
}

const AGGREGATES_COLUMNS: Record<string, string> = {
  tenant_id: 'LowCardinality(String)',
  symbol: 'LowCardinality(String)',
  timeframe: 'LowCardinality(String)',
  timestamp: "DateTime64(3, 'UTC')",
  timestamp_ms: 'UInt64',
  open: 'Float64',
  high: 'Float64',
  low: 'Float64',
  close: 'Float64',
  volume: 'Float64',
  vwap: 'Float64',
  range_pips: 'Float64',
  body_pips: 'Float64',
  start_time: "DateTime64(3, 'UTC')",
  end_time: "DateTime64(3, 'UTC')",
  source: 'LowCardinality(String)',
  ingested_at: "DateTime64(3, 'UTC')",
  version: 'UInt64',
};

export const AGGREGATES_SORTING_KEY = 'tenant_id, symbol, timeframe, timestamp';

/** Throws SchemaDriftError listing every way the live tables differ from what the code relies on. */
export const TICKS_SORTING_KEY = 'tenant_id, symbol, timestamp, bid, ask, exchange';

const TICKS_COLUMNS: Record<string, string> = {
  tenant_id: 'LowCardinality(String)',
  symbol: 'LowCardinality(String)',
  timestamp: "DateTime64(3, 'UTC')",
  bid: 'Float64',
  ask: 'Float64',
  mid: 'Float64',
  spread: 'Float64',
  exchange: 'Int32',
  ingested_at: "DateTime64(3, 'UTC')",
};

export async function verifyClickHouse(ch: ClickHouseClient, retention: ClickHouseRetention): Promise<void> {
  const retentionDays = retention.aggregatesDays;
  const tables = await readTables(ch);
  const aggregates = tables.get('aggregates');
  if (!aggregates) throw new SchemaDriftError('ClickHouse', ['table aggregates does not exist']);
  const problems: string[] = [];
  // The version column is what makes a re-written bar replace the old one.
  if (!aggregates.engine_full.startsWith('ReplacingMergeTree(version)')) {
    problems.push(
      `aggregates engine is ${aggregates.engine_full.split(' ')[0]}, expected ReplacingMergeTree(version)`,
    );
  }
  if (aggregates.sorting_key !== AGGREGATES_SORTING_KEY) {
    problems.push(
      `aggregates sorting key is (${aggregates.sorting_key}), expected (${AGGREGATES_SORTING_KEY})`,
    );
  }
  const expectedTtl = `toDateTime(timestamp) + toIntervalDay(${retentionDays})`;
  const ttl = ttlOf(aggregates.engine_full);
  if (ttl !== expectedTtl) problems.push(`aggregates TTL is ${ttl ?? 'missing'}, expected ${expectedTtl}`);

  const columns = await ch.query({
    query:
      "SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = 'aggregates'",
    format: 'JSONEachRow',
  });
  const actual = new Map((await columns.json<{ name: string; type: string }>()).map((c) => [c.name, c.type]));
  for (const [name, type] of Object.entries(AGGREGATES_COLUMNS)) {
    const found = actual.get(name);
    if (found !== type) problems.push(`aggregates.${name} is ${found ?? 'missing'}, expected ${type}`);
  }
  // Without the materialized views the stats silently stop updating.
  for (const view of ['daily_stats_mv', 'monthly_stats_mv']) {
    if (tables.get(view)?.engine !== 'MaterializedView')
      problems.push(`materialized view ${view} is missing`);
  }
  for (const name of ['daily_stats_state', 'monthly_stats_state', 'daily_stats', 'monthly_stats']) {
    if (!tables.has(name)) problems.push(`table ${name} is missing`);
  }
  problems.push(...(await verifyTicks(ch, tables.get('ticks'), retention.ticksDays)));
  if (problems.length > 0) throw new SchemaDriftError('ClickHouse', problems);
}

/** The long-term tick store: its key is what makes a redelivered tick one row. */
async function verifyTicks(
  ch: ClickHouseClient,
  ticks: TableRow | undefined,
  days: number,
): Promise<string[]> {
  if (!ticks) return ['table ticks does not exist'];
  const problems: string[] = [];
  if (ticks.engine !== 'ReplacingMergeTree')
    problems.push(`ticks engine is ${ticks.engine}, expected ReplacingMergeTree`);
  if (ticks.sorting_key !== TICKS_SORTING_KEY)
    problems.push(`ticks sorting key is (${ticks.sorting_key}), expected (${TICKS_SORTING_KEY})`);
  const expectedTtl = `toDateTime(timestamp) + toIntervalDay(${days})`;
  const ttl = ttlOf(ticks.engine_full);
  if (ttl !== expectedTtl) problems.push(`ticks TTL is ${ttl ?? 'missing'}, expected ${expectedTtl}`);
  const columns = await ch.query({
    query: "SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = 'ticks'",
    format: 'JSONEachRow',
  });
  const actual = new Map((await columns.json<{ name: string; type: string }>()).map((c) => [c.name, c.type]));
  for (const [name, type] of Object.entries(TICKS_COLUMNS)) {
    const found = actual.get(name);
    if (found !== type) problems.push(`ticks.${name} is ${found ?? 'missing'}, expected ${type}`);
  }
  return problems;
}
