// The collector's coverage markers (events.coverage) → PostgreSQL `feed_coverage`, through
// the bridge's own durable consumer `bridge-coverage` on the pipeline's events stream. A
// marker is acked only after the upsert committed; the upsert only moves a segment's end
// forward, so redelivery, replicas and reordering leave the row right. Malformed markers or
// another tenant's go to the dead-letter subject with the reason, and are counted.
import {
  AckPolicy,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import type pg from 'pg';
import { coverageSchema, type CoverageMarker } from '../contracts/messages.js';
import type { PipelineNames } from '../contracts/subjects.js';
import { foreignTenant } from '../contracts/tenancy.js';
import { describeIssues } from '../contracts/zod-issues.js';
import { publishDeadLetter } from '../nats/dead-letter.js';
import { ensureDurableConsumer, NS_PER_MS } from '../nats/durable-consumer.js';
import { Backoff, sleep } from '../runtime/backoff.js';
import type { Logger } from '../runtime/logger.js';
import type { BridgeMetrics } from './metrics.js';

export const COVERAGE_CONSUMER = 'bridge-coverage';
const ACK_WAIT_MS = 30_000;
/** A segment gets one row per this much marker time (schemas/timescaledb/004_feed_coverage.sql). */
export const PIECE_MS = 60_000;
const BATCH = 256;

const UPSERT = `
INSERT INTO feed_coverage (tenant_id, segment_id, piece, symbols, from_ms, to_ms, tick_seq)
SELECT m.tenant_id, m.segment_id, m.to_ms / ${PIECE_MS}, string_to_array(m.symbols_csv, ','), m.from_ms, m.to_ms, m.tick_seq
  -- symbols travel as one string each: unnest cannot take arrays of arrays of different lengths
  FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[])
    AS m(tenant_id, segment_id, symbols_csv, from_ms, to_ms, tick_seq)
ON CONFLICT (tenant_id, segment_id, piece) DO UPDATE SET
  from_ms = LEAST(feed_coverage.from_ms, excluded.from_ms),
  tick_seq = CASE WHEN excluded.to_ms > feed_coverage.to_ms THEN excluded.tick_seq ELSE feed_coverage.tick_seq END,
  to_ms = GREATEST(feed_coverage.to_ms, excluded.to_ms),
  updated_at = now()`;

/** The statement's column arrays. */
function upsertArgs(tenantId: string, markers: readonly CoverageMarker[]): unknown[] {
  // One marker per row (segment and piece): the newest (ON CONFLICT cannot touch a row twice).
  const byRow = new Map<string, CoverageMarker>();
  for (const m of markers) {
    const row = `${m.segment_id} ${Math.floor(m.to_ms / PIECE_MS)}`;
    const seen = byRow.get(row);
    if (!seen || m.to_ms > seen.to_ms) byRow.set(row, m);
  }
  const rows = [...byRow.values()];
  return [
    rows.map(() => tenantId),
    rows.map((m) => m.segment_id),
    rows.map((m) => m.symbols.join(',')),
    rows.map((m) => m.from_ms),
    rows.map((m) => m.to_ms),
    rows.map((m) => m.tick_seq),
  ];
}

export interface CoverageWriterOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  pool: pg.Pool;
  names: PipelineNames;
  log: Logger;
  metrics: BridgeMetrics;
}

export class CoverageWriter {
  private readonly stopSignal = new AbortController();
  readonly done: Promise<void>;

  private constructor(private readonly o: CoverageWriterOptions) {
    this.done = this.loop();
  }

  static async start(o: CoverageWriterOptions): Promise<CoverageWriter> {
    await ensureDurableConsumer(o.jsm, o.names.streams.events.name, {
      durable_name: COVERAGE_CONSUMER,
      filter_subject: o.names.coverageSubject,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: ACK_WAIT_MS * NS_PER_MS,
      max_deliver: -1,
    });
    return new CoverageWriter(o);
  }

  stop(): void {
    this.stopSignal.abort();
  }

  private async loop(): Promise<void> {
    const { js, names, log } = this.o;
    const signal = this.stopSignal.signal;
    const backoff = new Backoff({ initialMs: 500, maxMs: 10_000 });
    while (!signal.aborted) {
      try {
        const consumer = await js.consumers.get(names.streams.events.name, COVERAGE_CONSUMER);
        const batch = await consumer.fetch({ max_messages: BATCH, expires: 2000 });
        const held: JsMsg[] = [];
        const markers: CoverageMarker[] = [];
        for await (const msg of batch) {
          const marker = await this.accept(msg);
          if (marker) {
            held.push(msg);
            markers.push(marker);
          }
        }
        if (markers.length > 0) {
          await this.o.pool.query(UPSERT, upsertArgs(names.tenantId, markers));
          await Promise.all(held.map((m) => m.ackAck()));
          this.o.metrics.written.inc({ kind: 'coverage' }, held.length);
        }
        backoff.reset();
      } catch (error) {
        if (signal.aborted) break;
        // Unacked markers come back after ACK_WAIT_MS; nothing is lost.
        log.warn({ err: (error as Error).message }, 'coverage markers not written; retrying');
        await sleep(backoff.next(), signal);
      }
    }
  }

  private async accept(msg: JsMsg): Promise<CoverageMarker | undefined> {
    let reason: string;
    try {
      const parsed = coverageSchema.safeParse(JSON.parse(new TextDecoder().decode(msg.data)));
      const foreign = parsed.success ? foreignTenant(this.o.names, parsed.data.tenant_id) : undefined;
      if (parsed.success && !foreign) return parsed.data;
      reason = parsed.success ? `wrong_tenant: ${foreign}` : describeIssues(parsed.error);
    } catch (error) {
      reason = `invalid JSON: ${(error as Error).message}`;
    }
    await publishDeadLetter(
      this.o.js,
      {
        subject: msg.subject,
        data: msg.data,
        reason,
        messageId: msg.headers?.get('Nats-Msg-Id') || undefined,
        service: 'market-pipeline-bridge',
      },
      this.o.names,
    );
    msg.ack();
    this.o.metrics.deadLetters.inc({ kind: 'coverage', reason: reason.split(':')[0]! });
    this.o.log.warn({ subject: msg.subject, reason }, 'malformed or foreign coverage marker sent to the DLQ');
    return undefined;
  }
}
