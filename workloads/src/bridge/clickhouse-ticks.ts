// The optional long-term tick store (CLICKHOUSE_TICKS_ENABLED): every tick, also in
// ClickHouse `ticks` (schemas/clickhouse/004_ticks.sql), kept for years for backtesting
// while PostgreSQL keeps 90 days.
//
// Written through a durable consumer of its own on the pipeline's tick stream
// (`bridge-ticks-clickhouse`), not by the PostgreSQL worker: each consumer acks after its own
// database committed, so a ClickHouse outage holds back only this consumer (its lag grows,
// JetStream keeps the ticks for NATS_STREAM_MAX_AGE_SECONDS) while PostgreSQL ingestion and
// the latest-quote cache go on at full pace; and the other way round. Acking after both
// writes would have stalled the live path on the research store. Redelivery is harmless:
// the table is a ReplacingMergeTree on the quote identity (market_ticks' unique key).
//
// Messages the router refuses are dead-lettered by both consumers under the same message
// id (`dlq:<id>`), so JetStream keeps one of them when both arrive within the duplicate
// window (NATS_DUPLICATE_WINDOW_SECONDS); the message counters carry kind="tick_store" here
// (StreamWorker `metricKind`), apart from the PostgreSQL worker's kind="tick".
import type { ClickHouseClient } from '@clickhouse/client';
import type { JetStreamManager } from '@nats-io/jetstream';
import { Batch } from './batch.js';
import { ensureConsumer, type BridgeConsumers } from './consumers.js';
import type { DatabaseHealth } from './health.js';
import { clickhouseDateTime64, type TickRow } from './rows.js';
import { mostHeld, StreamWorker, type Held, type StreamWorkerOptions } from './stream-worker.js';
import { isClickHouseDataError, type BatchWriter } from './writers.js';

export const CLICKHOUSE_TICKS_DURABLE = 'bridge-ticks-clickhouse';

/** The consumers with the tick consumer replaced by the ClickHouse store's durable. */
export function clickhouseTickConsumers(consumers: BridgeConsumers): BridgeConsumers {
  return { ...consumers, ticks: { ...consumers.ticks, durable: CLICKHOUSE_TICKS_DURABLE } };
}

/** One row of ClickHouse `ticks` (JSONEachRow). */
export interface ClickHouseTickRow {
  tenant_id: string;
  symbol: string;
  timestamp: string;
  bid: number;
  ask: number;
  mid: number;
  spread: number;
  exchange: number;
  ingested_at: string;
}

/** The rows of a batch; the ticks of one batch mostly share their receipt time (one frame): converted once. */
export function clickhouseTickRows(rows: readonly TickRow[]): ClickHouseTickRow[] {
  let lastIngested = '';
  let lastConverted = '';
  return rows.map((r) => {
    if (r.ingested_at !== lastIngested) {
      lastIngested = r.ingested_at;
      lastConverted = clickhouseDateTime64(Date.parse(r.ingested_at));
    }
    return {
      tenant_id: r.tenant_id,
      symbol: r.symbol,
      timestamp: clickhouseDateTime64(r.timestamp_ms),
      bid: r.bid,
      ask: r.ask,
      mid: r.mid,
      spread: r.spread,
      exchange: r.exchange,
      ingested_at: lastConverted,
    };
  });
}

export function clickhouseTickWriter(ch: ClickHouseClient): BatchWriter<TickRow> {
  return {
    database: 'clickhouse',
    async write(rows) {
      await ch.insert({ table: 'ticks', values: clickhouseTickRows(rows), format: 'JSONEachRow' });
      return undefined;
    },
    isDataError: isClickHouseDataError,
  };
}

export interface TickStoreWorkerOptions {
  common: Omit<
    StreamWorkerOptions<TickRow>,
    'kind' | 'consumerName' | 'getConsumer' | 'lanes' | 'toRow' | 'writer' | 'health'
  >;
  jsm: JetStreamManager;
  consumers: BridgeConsumers;
  ackWaitMs: number;
  /** ClickHouse wants few large inserts: the historical lane's size and timeout. */
  batchSize: number;
  batchTimeoutMs: number;
  ch: ClickHouseClient;
  health: DatabaseHealth;
  toRow: StreamWorkerOptions<TickRow>['toRow'];
}

/** Creates (or updates) the store's durable and its worker; run() it with the others. */
export async function tickStoreWorker(
  o: TickStoreWorkerOptions,
): Promise<{ worker: StreamWorker<TickRow>; consumer: { stream: string; durable: string; label: string } }> {
  const consumers = clickhouseTickConsumers(o.consumers);
  const lanes = { live: new Batch<Held<TickRow>>('ticks_clickhouse', o.batchSize, o.batchTimeoutMs) };
  const settings = {
    ackWaitMs: o.ackWaitMs,
    heldPerReplica: mostHeld(lanes, o.common.maxConcurrentWrites ?? 1),
  };
  await ensureConsumer(o.jsm, 'ticks', settings, consumers);
  const { stream, durable } = consumers.ticks;
  const worker = new StreamWorker<TickRow>({
    ...o.common,
    metricKind: 'tick_store',
    kind: 'ticks',
    consumerName: durable,
    getConsumer: async () => {
      await ensureConsumer(o.jsm, 'ticks', settings, consumers); // recreates it if it was deleted
      return o.common.js.consumers.get(stream, durable);
    },
    lanes,
    toRow: o.toRow,
    writer: clickhouseTickWriter(o.ch),
    health: o.health,
  });
  return { worker, consumer: { stream, durable, label: durable } };
}
