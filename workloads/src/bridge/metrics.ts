// Prometheus metrics of the bridge (all prefixed market_pipeline_bridge_).
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type BridgeMetrics = ReturnType<typeof createBridgeMetrics>;

export function createBridgeMetrics(registry: Registry) {
  const registers = [registry];
  return {
    received: new Counter({
      name: 'market_pipeline_bridge_messages_received_total',
      help: 'Messages pulled from JetStream, by kind (tick, bar)',
      labelNames: ['kind'],
      registers,
    }),
    written: new Counter({
      name: 'market_pipeline_bridge_messages_written_total',
      help: 'Messages whose row was committed to the database (duplicates included), by kind',
      labelNames: ['kind'],
      registers,
    }),
    duplicates: new Counter({
      name: 'market_pipeline_bridge_duplicate_ticks_total',
      help: 'Ticks already stored (redelivered or republished), skipped by ON CONFLICT DO NOTHING',
      registers,
    }),
    acked: new Counter({
      name: 'market_pipeline_bridge_messages_acked_total',
      help: 'Messages acknowledged after their write committed, by kind',
      labelNames: ['kind'],
      registers,
    }),
    redelivered: new Counter({
      name: 'market_pipeline_bridge_messages_redelivered_total',
      help: 'Messages pulled that the server had delivered before (a replica died, or an ack wait ran out), by kind',
      labelNames: ['kind'],
      registers,
    }),
    progressReplies: new Counter({
      name: 'market_pipeline_bridge_progress_replies_total',
      help: 'working() replies (+WPI) sent for messages held longer than a sixth of the ack wait',
      registers,
    }),
    batchSize: new Histogram({
      name: 'market_pipeline_bridge_batch_size',
      help: 'Rows per database write, by lane (ticks, bars_live, bars_historical)',
      labelNames: ['lane'],
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
      registers,
    }),
    writeSeconds: new Histogram({
      name: 'market_pipeline_bridge_write_duration_seconds',
      help: 'Duration of successful batch writes, by database',
      labelNames: ['database'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    writeFailures: new Counter({
      name: 'market_pipeline_bridge_write_failures_total',
      help: 'Failed batch writes, by database and cause (unavailable: retried; data: batch split to isolate the row)',
      labelNames: ['database', 'cause'],
      registers,
    }),
    writeRetries: new Counter({
      name: 'market_pipeline_bridge_write_retries_total',
      help: 'Batch writes retried after the database was unavailable, by database',
      labelNames: ['database'],
      registers,
    }),
    databaseUp: new Gauge({
      name: 'market_pipeline_bridge_database_up',
      help: '1 while the database answers, 0 during an outage (batches are held, not acked)',
      labelNames: ['database'],
      registers,
    }),
    deadLetters: new Counter({
      name: 'market_pipeline_bridge_dead_letters_total',
      help: 'Messages sent to dlq.<subject>, by kind and reason',
      labelNames: ['kind', 'reason'],
      registers,
    }),
    deadLetterFailures: new Counter({
      name: 'market_pipeline_bridge_dead_letter_failures_total',
      help: 'Dead letters that could not be published (the original is redelivered later)',
      registers,
    }),
    pullErrors: new Counter({
      name: 'market_pipeline_bridge_pull_errors_total',
      help: 'Failed JetStream fetches, by consumer',
      labelNames: ['consumer'],
      registers,
    }),
    consumerLag: new Gauge({
      name: 'market_pipeline_bridge_consumer_lag',
      help: 'Messages not yet acknowledged (num_pending + num_ack_pending), by consumer',
      labelNames: ['consumer'],
      registers,
    }),
    oldestUnackedAge: new Gauge({
      name: 'market_pipeline_bridge_oldest_unacked_age_seconds',
      help: 'Age of the oldest message not yet acknowledged (stored in the stream, not yet written), by consumer; 0 when none waits',
      labelNames: ['consumer'],
      registers,
    }),
    retentionDeleted: new Counter({
      name: 'market_pipeline_bridge_retention_deleted_ticks_total',
      help: 'Ticks deleted past TIMESCALEDB_RETENTION_DAYS on plain PostgreSQL',
      registers,
    }),
  };
}
