// One statement per batch.
//
// Ticks: a binary COPY of the batch into market_ticks, which stores all of it or nothing
// (one statement). It is the fast path: it costs PostgreSQL about half as much per row as
// an INSERT (multi-row heap inserts, no speculative insertion), and in binary neither side
// formats or parses numbers and dates (pg-binary-copy.ts; bench/bridge-ingest.ts). The
// batch is written instead by INSERT ... SELECT FROM unnest(column arrays) ON CONFLICT DO
// NOTHING when the COPY is refused because the batch holds a tick the table already has
// (a redelivery, a quote re-published after the duplicate window: the quote-identity
// unique key skips those), when it holds a value the binary format cannot carry as given,
// or when the database refuses a value (the INSERT's error then names it, in text). After
// a batch with duplicates the next batches go straight to the INSERT until one arrives
// without any, so a burst of redeliveries does not pay for a refused COPY each time. The
// INSERT passes 11 arrays whatever the batch size (a VALUES list would hit the
// 65,535-parameter cap).
//
// Bars: one JSONEachRow insert; ReplacingMergeTree(version) keeps the newest version of
// each bar, so a re-inserted bar is harmless.
import { ClickHouseError, type ClickHouseClient } from '@clickhouse/client';
import type pg from 'pg';
import { BinaryCopyBuilder, exactIsoMs, NotRepresentable } from '../db/pg-binary-copy.js';
import { copyFrom } from '../db/pg-copy.js';
import { TICK_COLUMNS, tickTime, type BarRow, type TickRow } from './rows.js';

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

const INSERT_TICKS = `INSERT INTO market_ticks (${TICK_COLUMNS.join(', ')})
  SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::float8[], $5::float8[], $6::float8[],
                       $7::float8[], $8::int8[], $9::int4[], $10::text[], $11::timestamptz[])
  ON CONFLICT DO NOTHING`;

const COPY_TICKS = `COPY market_ticks (${TICK_COLUMNS.join(', ')}) FROM STDIN (FORMAT binary)`;

const UNIQUE_VIOLATION = '23505';

/**
 * The batch as a binary COPY payload, fields in TICK_COLUMNS order; undefined when a row
 * holds a value the binary format cannot carry exactly as given (NotRepresentable).
 */
export function ticksAsBinaryCopy(rows: readonly TickRow[]): Buffer | undefined {
  const copy = new BinaryCopyBuilder(64 + rows.length * 160);
  // Ticks of one batch mostly share their receipt time (one frame's quotes): parse it once.
  let lastIngestedAt = '';
  let lastIngestedMs = 0;
  try {
    for (const r of rows) {
      if (r.ingested_at !== lastIngestedAt) {
        lastIngestedMs = exactIsoMs(r.ingested_at);
        lastIngestedAt = r.ingested_at;
      }
      copy
        .row(TICK_COLUMNS.length)
        .timestamptzMs(r.timestamp_ms)
        .text(r.tenant_id)
        .text(r.symbol)
        .float8(r.bid)
        .float8(r.ask)
        .float8(r.mid)
        .float8(r.spread)
        .int8(r.timestamp_ms)
        .int4(r.exchange)
        .text(r.source)
        .timestamptzMs(lastIngestedMs);
    }
  } catch (error) {
    if (error instanceof NotRepresentable) return undefined;
    throw error;
  }
  return copy.finish();
}

async function copyTicks(pool: pg.Pool, payload: Buffer): Promise<number> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    return await copyFrom(client, COPY_TICKS, payload);
  } catch (error) {
    // Only a refused COPY leaves the connection usable; anything else may not.
    if ((error as { code?: unknown }).code === undefined) broken = error as Error;
    throw error;
  } finally {
    client.release(broken);
  }
}

async function insertIgnoringDuplicates(pool: pg.Pool, rows: readonly TickRow[]): Promise<number> {
  const columns = [
    rows.map(tickTime),
    rows.map((r) => r.tenant_id),
    rows.map((r) => r.symbol),
    rows.map((r) => r.bid),
    rows.map((r) => r.ask),
    rows.map((r) => r.mid),
    rows.map((r) => r.spread),
    rows.map((r) => r.timestamp_ms),
    rows.map((r) => r.exchange),
    rows.map((r) => r.source),
    rows.map((r) => r.ingested_at),
  ];
  return (await pool.query(INSERT_TICKS, columns)).rowCount ?? 0;
}

/** SQLSTATE class 22 (data exception), 23502 not-null, 23514 check violation. */
function isRefusedValue(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('22') || code === '23502' || code === '23514');
}

export function tickWriter(pool: pg.Pool): BatchWriter<TickRow> {
  /** Set after a batch with duplicates: skip the COPY until a batch has none. */
  let duplicatesSeen = false;
  return {
    database: 'postgres',
    async write(rows) {
      const payload = duplicatesSeen ? undefined : ticksAsBinaryCopy(rows);
      if (payload) {
        try {
          return await copyTicks(pool, payload);
        } catch (error) {
          if ((error as { code?: unknown }).code !== UNIQUE_VIOLATION && !isRefusedValue(error)) throw error;
        }
      }
      const stored = await insertIgnoringDuplicates(pool, rows);
      duplicatesSeen = stored < rows.length;
      return stored;
    },
    isDataError: isRefusedValue,
  };
}

// ClickHouse error codes for rows it cannot take (parse and range errors).
const CLICKHOUSE_DATA_ERRORS = new Set(['6', '26', '27', '38', '41', '53', '69', '70', '72', '117', '321']);

/** Whether ClickHouse refused the rows themselves (a data error), not the write (unavailable). */
export function isClickHouseDataError(error: unknown): boolean {
  return error instanceof ClickHouseError && CLICKHOUSE_DATA_ERRORS.has(error.code);
}

export function barWriter(ch: ClickHouseClient): BatchWriter<BarRow> {
  return {
    database: 'clickhouse',
    async write(rows) {
      await ch.insert({ table: 'aggregates', values: rows, format: 'JSONEachRow' });
      return undefined;
    },
    isDataError: isClickHouseDataError,
  };
}
