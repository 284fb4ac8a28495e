// The PostgreSQL/TimescaleDB half of `migrate`: apply schemas/timescaledb/*.sql, record
// them, reconcile the TimescaleDB policies to the configured intervals, and verify the
// live table. It talks to the database through SqlExecutor so that the same code runs
// against a pg connection (production) and an in-process PGlite with TimescaleDB (tests:
// TimescaleDB is not packaged for the test machine).
import type pg from 'pg';
import type { Logger } from '../runtime/logger.js';
import type { SchemaFile } from './schema-files.js';
import { SchemaDriftError, type AppliedFile } from './ledger.js';

export interface SqlExecutor {
  /** Runs one or more statements without parameters (a whole schema file, DO blocks included). */
  exec(sql: string): Promise<void>;
  /** Runs one statement with $n parameters and returns its rows. */
  query<R>(sql: string, params?: unknown[]): Promise<R[]>;
}

/** An executor on ONE connection (transactions and advisory locks need the same session). */
export function pgExecutor(client: pg.Client | pg.PoolClient): SqlExecutor {
  return {
    exec: async (sql) => void (await client.query(sql)),
    query: async <R>(sql: string, params?: unknown[]) => (await client.query(sql, params)).rows as R[],
  };
}

export interface TimescaleTargets {
  retentionDays: number;
  compressAfterDays: number;
}

export interface PostgresMigrateResult {
  applied: AppliedFile[];
  skipped: string[];
  timescaledb: boolean;
  /** Policies replaced because their interval differed from the configuration. */
  reconciled: string[];
}

// Serialises concurrent migrate runs (a Job retried while the first attempt still runs).
const MIGRATE_LOCK_KEY = 0x6d70_6d67; // "mpmg"

const LEDGER_DDL = `CREATE TABLE IF NOT EXISTS schema_migrations (
    file       text        NOT NULL,
    sha256     text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)`;

export async function migratePostgres(
  db: SqlExecutor,
  files: SchemaFile[],
  targets: TimescaleTargets,
  log: Logger,
): Promise<PostgresMigrateResult> {
  await db.query('SELECT pg_advisory_lock($1)', [MIGRATE_LOCK_KEY]);
  try {
    await db.exec(LEDGER_DDL);
    const result: PostgresMigrateResult = { applied: [], skipped: [], timescaledb: false, reconciled: [] };
    const ledger = await db.query<{ file: string; sha256: string }>(
      'SELECT file, sha256 FROM schema_migrations',
    );
    for (const file of files) {
      const history = ledger.filter((l) => l.file === file.name);
      if (history.some((l) => l.sha256 === file.sha256)) {
        result.skipped.push(file.name);
        continue;
      }
      // A whole file runs as one transaction together with its ledger row.
      await db.exec('BEGIN');
      try {
        await db.exec(file.sql);
        await db.query('INSERT INTO schema_migrations (file, sha256) VALUES ($1, $2)', [
          file.name,
          file.sha256,
        ]);
        await db.exec('COMMIT');
      } catch (error) {
        await db.exec('ROLLBACK').catch(() => undefined);
        throw new Error(`applying schemas/timescaledb/${file.name} failed: ${(error as Error).message}`, {
          cause: error,
        });
      }
      const changed = history.length > 0;
      if (changed) log.warn({ file: file.name }, 'schema file changed since it was applied; re-applied it');
      result.applied.push({ file: file.name, sha256: file.sha256, changed });
    }
    result.timescaledb = await hasTimescale(db);
    if (result.timescaledb) result.reconciled = await reconcileTimescalePolicies(db, targets, log);
    await verifyPostgres(db, targets, result.timescaledb);
    return result;
  } finally {
    await db.query('SELECT pg_advisory_unlock($1)', [MIGRATE_LOCK_KEY]).catch(() => undefined);
  }
}

export async function hasTimescale(db: SqlExecutor): Promise<boolean> {
  const rows = await db.query("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'");
  return rows.length > 0;
}

interface PolicyRow {
  proc_name: 'policy_retention' | 'policy_compression';
  matches: boolean;
  configured: string | null;
}

const POLICIES = [
  {
    proc: 'policy_retention',
    key: 'drop_after',
    days: (t: TimescaleTargets) => t.retentionDays,
    remove: "SELECT remove_retention_policy('market_ticks', if_exists => TRUE)",
    add: "SELECT add_retention_policy('market_ticks', make_interval(days => $1::int))",
  },
  {
    proc: 'policy_compression',
    key: 'compress_after',
    days: (t: TimescaleTargets) => t.compressAfterDays,
    remove: "SELECT remove_compression_policy('market_ticks', if_exists => TRUE)",
    add: "SELECT add_compression_policy('market_ticks', make_interval(days => $1::int))",
  },
] as const;

async function readPolicy(db: SqlExecutor, policy: (typeof POLICIES)[number], days: number) {
  const rows = await db.query<PolicyRow>(
    `SELECT proc_name, config->>'${policy.key}' AS configured,
            (config->>'${policy.key}')::interval = make_interval(days => $1::int) AS matches
       FROM timescaledb_information.jobs
      WHERE hypertable_name = 'market_ticks' AND proc_name = $2`,
    [days, policy.proc],
  );
  return rows[0];
}

/** Replaces a policy whose interval differs from the configured number of days. */
async function reconcileTimescalePolicies(
  db: SqlExecutor,
  targets: TimescaleTargets,
  log: Logger,
): Promise<string[]> {
  const reconciled: string[] = [];
  for (const policy of POLICIES) {
    const days = policy.days(targets);
    const current = await readPolicy(db, policy, days);
    if (current?.matches) continue;
    await db.exec('BEGIN');
    try {
      await db.exec(policy.remove);
      await db.query(policy.add, [days]);
      await db.exec('COMMIT');
    } catch (error) {
      await db.exec('ROLLBACK').catch(() => undefined);
      throw error;
    }
    log.info(
      { policy: policy.proc, from: current?.configured ?? null, toDays: days },
      'replaced TimescaleDB policy',
    );
    reconciled.push(`${policy.proc}: ${current?.configured ?? 'none'} -> ${days} days`);
  }
  return reconciled;
}

/** Column types the bridge and the aggregator rely on (information_schema spelling). */
const MARKET_TICKS_COLUMNS: Record<string, string> = {
  time: 'timestamp with time zone',
  tenant_id: 'text',
  symbol: 'text',
  bid: 'double precision',
  ask: 'double precision',
  mid: 'double precision',
  spread: 'double precision',
  timestamp_ms: 'bigint',
  exchange: 'integer',
  source: 'text',
  ingested_at: 'timestamp with time zone',
  committed_at: 'timestamp with time zone',
};

/** The quote identity: the one unique key, which makes ON CONFLICT DO NOTHING idempotent. */
export const MARKET_TICKS_UNIQUE_KEY = ['tenant_id', 'symbol', 'time', 'bid', 'ask', 'exchange'];

/** Checks the live table against what the code relies on; throws SchemaDriftError listing every difference. */
export async function verifyPostgres(
  db: SqlExecutor,
  targets: TimescaleTargets,
  timescaledb: boolean,
): Promise<void> {
  const problems: string[] = [];
  const columns = await db.query<{ column_name: string; data_type: string }>(
    `SELECT column_name, data_type FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name = 'market_ticks'`,
  );
  if (columns.length === 0) throw new SchemaDriftError('PostgreSQL', ['table market_ticks does not exist']);
  const actual = new Map(columns.map((c) => [c.column_name, c.data_type]));
  for (const [name, type] of Object.entries(MARKET_TICKS_COLUMNS)) {
    const found = actual.get(name);
    if (found !== type) problems.push(`market_ticks.${name} is ${found ?? 'missing'}, expected ${type}`);
  }
  // Every unique index counts for ON CONFLICT DO NOTHING: a narrower one, such as the
  // seed's UNIQUE (symbol, time), would silently drop distinct quotes of one millisecond.
  const uniques = await db.query<{ name: string; cols: string[] }>(
    `SELECT i.indexrelid::regclass::text AS name,
            array(SELECT a.attname::text
                    FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                    JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                   ORDER BY k.ord) AS cols
       FROM pg_index i
      WHERE i.indrelid = to_regclass('market_ticks') AND i.indisunique`,
  );
  const expectedKey = [...MARKET_TICKS_UNIQUE_KEY].sort().join(',');
  if (!uniques.some((u) => [...u.cols].sort().join(',') === expectedKey)) {
    problems.push(`market_ticks has no unique key on (${MARKET_TICKS_UNIQUE_KEY.join(', ')})`);
  }
  for (const u of uniques.filter((u) => [...u.cols].sort().join(',') !== expectedKey)) {
    problems.push(`market_ticks has an unexpected unique index ${u.name} on (${u.cols.join(', ')})`);
  }
  if (timescaledb) {
    const hypertable = await db.query<{ compression_enabled: boolean }>(
      `SELECT compression_enabled FROM timescaledb_information.hypertables WHERE hypertable_name = 'market_ticks'`,
    );
    if (hypertable.length === 0) problems.push('market_ticks is not a hypertable');
    else if (!hypertable[0]!.compression_enabled) problems.push('market_ticks has compression disabled');
    for (const policy of POLICIES) {
      const days = policy.days(targets);
      const current = await readPolicy(db, policy, days);
      if (!current?.matches) {
        problems.push(`${policy.proc} is ${current?.configured ?? 'missing'}, expected ${days} days`);
      }
    }
  }
  if (problems.length > 0) throw new SchemaDriftError('PostgreSQL', problems);
}
