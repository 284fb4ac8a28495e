// One statement per batch.
//
// Ticks: a COPY of the batch into market_ticks, which stores all of it or nothing (one
// statement). When the batch holds a tick the table already has (a redelivery, a quote
// re-published after the duplicate window), the quote-identity unique key refuses the
// COPY, and the batch is written again by INSERT ... SELECT FROM unnest(column arrays) ON
// CONFLICT DO NOTHING, which skips the duplicates. COPY is the fast path because it costs
// PostgreSQL about half as much per row (multi-row heap inserts, no speculative insertion;
// bench/bridge-ingest.ts), and duplicates are rare; after a batch that had some, the next
// batches go straight to the INSERT until one arrives without duplicates, so a burst of
// redeliveries does not pay for a refused COPY each time. The INSERT passes 11 arrays
// whatever the batch size (a VALUES list would hit the 65,535-parameter cap).
//
// Bars: one JSONEachRow insert; ReplacingMergeTree(version) keeps the newest version of
// each bar, so a re-inserted bar is harmless.
import { ClickHouseError, type ClickHouseClient } from '@clickhouse/client';
import type pg from 'pg';
import { copyFrom, copyTextField } from '../db/pg-copy.js';
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

const TICK_COLUMNS = [
  'time',
  'tenant_id',
  'symbol',
  'bid',
  'ask',
  'mid',
  'spread',
  'timestamp_ms',
  'exchange',
  'source',
  'ingested_at',
] as const satisfies readonly (keyof TickRow)[];

const COPY_TICKS = `COPY market_ticks (${TICK_COLUMNS.join(', ')}) FROM STDIN`;

const UNIQUE_VIOLATION = '23505';

/** The batch in COPY text format, columns in TICK_COLUMNS order. */
export function ticksAsCopyText(rows: readonly TickRow[]): string {
  let text = '';
  for (const r of rows) {
    text +=
      `${copyTextField(r.time)}\t${copyTextField(r.tenant_id)}\t${copyTextField(r.symbol)}\t` +
      `${copyTextField(r.bid)}\t${copyTextField(r.ask)}\t${copyTextField(r.mid)}\t` +
      `${copyTextField(r.spread)}\t${copyTextField(r.timestamp_ms)}\t${copyTextField(r.exchange)}\t` +
      `${copyTextField(r.source)}\t${copyTextField(r.ingested_at)}\n`;
  }
  return text;
}

async function copyTicks(pool: pg.Pool, rows: readonly TickRow[]): Promise<number> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    return await copyFrom(client, COPY_TICKS, ticksAsCopyText(rows));
  } catch (error) {
    // Only a refused COPY leaves the connection usable; anything else may not.
    if ((error as { code?: unknown }).code === undefined) broken = error as Error;
    throw error;
  } finally {
    client.release(broken);
  }
}

async function insertIgnoringDuplicates(pool: pg.Pool, rows: readonly TickRow[]): Promise<number> {
  const columns = TICK_COLUMNS.map((c) => rows.map((r) => r[c]));
  return (await pool.query(INSERT_TICKS, columns)).rowCount ?? 0;
}

export function tickWriter(pool: pg.Pool): BatchWriter<TickRow> {
  /** Set after a batch with duplicates: skip the COPY until a batch has none. */
  let duplicatesSeen = false;
  return {
    database: 'postgres',
    async write(rows) {
      if (!duplicatesSeen) {
        try {
          return await copyTicks(pool, rows);
        } catch (error) {
          if ((error as { code?: unknown }).code !== UNIQUE_VIOLATION) throw error;
        }
      }
      const stored = await insertIgnoringDuplicates(pool, rows);
      duplicatesSeen = stored < rows.length;
      return stored;
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
