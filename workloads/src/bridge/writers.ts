// One statement per batch. Ticks: INSERT ... SELECT FROM unnest(column arrays) ON CONFLICT
// DO NOTHING: 11 parameters whatever the batch size (a VALUES list would hit PostgreSQL's
// 65,535-parameter cap at ~5,900 rows), and the quote-identity unique key turns a
// redelivered tick into a no-op. Bars: one JSONEachRow insert; ReplacingMergeTree(version)
// keeps the newest version of each bar, so a re-inserted bar is harmless.
import { ClickHouseError, type ClickHouseClient } from '@clickhouse/client';
import type pg from 'pg';
import type { BarRow, TickRow } from './rows.js';

export type Database = 'postgres' | 'clickhouse';

export interface BatchWriter<R> {
  database: Database;
  /** Writes every row in one statement; resolves once committed. Returns the rows newly stored, when known. */
  write(rows: R[]): Promise<number | undefined>;
  /**
   * True when the database refused the data itself (it will refuse it again), as opposed to
   * being unreachable or busy (worth retrying). Only then is a batch split to find the culprit.
   */
  isDataError(error: unknown): boolean;
}

const INSERT_TICKS = `INSERT INTO market_ticks
    (time, tenant_id, symbol, bid, ask, mid, spread, timestamp_ms, exchange, source, ingested_at)
  SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::float8[], $5::float8[], $6::float8[],
                       $7::float8[], $8::int8[], $9::int4[], $10::text[], $11::timestamptz[])
  ON CONFLICT DO NOTHING`;

export function tickWriter(pool: pg.Pool): BatchWriter<TickRow> {
  return {
    database: 'postgres',
    async write(rows) {
      const column = <K extends keyof TickRow>(k: K) => rows.map((r) => r[k]);
      const result = await pool.query(INSERT_TICKS, [
        column('time'),
        column('tenant_id'),
        column('symbol'),
        column('bid'),
        column('ask'),
        column('mid'),
        column('spread'),
        column('timestamp_ms'),
        column('exchange'),
        column('source'),
        column('ingested_at'),
      ]);
      return result.rowCount ?? undefined;
    },
    isDataError(error) {
      // SQLSTATE class 22 (data exception), 23502 not-null, 23514 check violation.
      const code = (error as { code?: unknown }).code;
      return typeof code === 'string' && (code.startsWith('22') || code === '23502' || code === '23514');
    },
  };
}

// ClickHouse error codes for rows it cannot take (parse and range errors).
const CLICKHOUSE_DATA_ERRORS = new Set(['6', '26', '27', '38', '41', '53', '69', '70', '72', '117', '321']);

export function barWriter(ch: ClickHouseClient): BatchWriter<BarRow> {
  return {
    database: 'clickhouse',
    async write(rows) {
      await ch.insert({ table: 'aggregates', values: rows, format: 'JSONEachRow' });
      return undefined;
    },
    isDataError(error) {
      return error instanceof ClickHouseError && CLICKHOUSE_DATA_ERRORS.has(error.code);
    },
  };
}
