// Baseline of the end-to-end latency benchmark: the shortest path from the feed to the
// table. It reads the simulator's WebSocket and inserts each frame's quotes into
// market_ticks at once (one INSERT at a time; frames that arrive meanwhile go into the
// next one), with no NATS, no batching delay and no confirmation protocol. It runs until
// SIGTERM.
//
//   node dist/bench/bench/baselines/direct-insert.js --ws URL --key KEY --symbols A/B,C/D   (TIMESCALEDB_* from env)
import { parseArgs } from 'node:util';
import pg from 'pg';
import WebSocket from 'ws';
import type { Tick } from '../../workloads/src/contracts/messages.js';
import { TickEncoder } from '../../workloads/src/collector/quote-to-tick.js';
import { parseFrame } from '../../workloads/src/collector/polygon-frames.js';
import { TICK_COLUMNS } from '../../workloads/src/bridge/rows.js';
import { tableRow } from '../lib/ticks.js';

const { values } = parseArgs({
  options: { ws: { type: 'string' }, key: { type: 'string' }, symbols: { type: 'string' } },
});
if (!values.ws || !values.key || !values.symbols) {
  console.error('usage: direct-insert --ws URL --key KEY --symbols A/B,C/D');
  process.exit(2);
}
const env = process.env;
const pool = new pg.Pool({
  host: env.TIMESCALEDB_HOST,
  port: Number(env.TIMESCALEDB_PORT),
  database: env.TIMESCALEDB_DATABASE,
  user: env.TIMESCALEDB_USER,
  password: env.TIMESCALEDB_PASSWORD,
  max: 1,
});

const INSERT = `INSERT INTO market_ticks
    (time, tenant_id, symbol, bid, ask, mid, spread, timestamp_ms, exchange, source, ingested_at)
  SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::float8[], $5::float8[], $6::float8[],
                       $7::float8[], $8::int8[], $9::int4[], $10::text[], $11::timestamptz[])
  ON CONFLICT DO NOTHING`;

const encoder = new TickEncoder({});
let waiting: Tick[] = [];
let inserting = false;

async function insertWaiting(): Promise<void> {
  if (inserting || waiting.length === 0) return;
  inserting = true;
  const ticks = waiting;
  waiting = [];
  try {
    const rows = ticks.map((t) => tableRow(t, 'system'));
    await pool.query(
      INSERT,
      TICK_COLUMNS.map((c) => rows.map((r) => r[c])),
    );
  } catch (error) {
    console.error(`insert failed: ${(error as Error).message}`);
    process.exitCode = 1;
  } finally {
    inserting = false;
    void insertWaiting();
  }
}

const socket = new WebSocket(values.ws);
socket.on('message', (data: WebSocket.RawData) => {
  const receivedAt = new Date().toISOString();
  const frame = parseFrame(data.toString());
  for (const status of frame.statuses) {
    if (status.status === 'connected') socket.send(JSON.stringify({ action: 'auth', params: values.key }));
    if (status.status === 'auth_success') {
      const topics = values.symbols!.split(',').map((s) => `C.${s}`);
      socket.send(JSON.stringify({ action: 'subscribe', params: topics.join(',') }));
    }
  }
  for (const quote of frame.quotes) waiting.push(encoder.toTick(quote, receivedAt));
  void insertWaiting();
});
socket.on('error', (error) => {
  console.error(`WebSocket error: ${error.message}`);
  process.exit(1);
});
process.once('SIGTERM', () => {
  socket.close();
  void pool.end().finally(() => process.exit());
});
