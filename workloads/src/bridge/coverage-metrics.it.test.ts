// market_pipeline_uncovered_seconds{symbol} against real feed_coverage rows in PostgreSQL and
// a real NATS (the bridge-ticks ack floor), at a fixed instant: a Wednesday noon UTC, so
// that the whole 24 h window lies in forex hours and every second of it must be covered.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { SEED_NAMES } from '../contracts/subjects.js';
import { migrateInto, natsClient, quietLog, type NatsClient } from '../../../test/support/bridge-harness.js';
import { createTestDatabases, type TestDatabases } from '../../../test/support/databases.js';
import { metricValue } from '../../../test/support/metrics.js';
import { startPrivateNats, type PrivateNats } from '../../../test/support/private-nats.js';
import { waitFor } from '../../../test/support/wait.js';
import { startCoverageMetrics } from './coverage-metrics.js';

const NOW = Date.parse('2026-12-02T12:00:00Z');
const HOUR = 3_600_000;
const GAUGE = 'market_pipeline_uncovered_seconds';

let nats: PrivateNats;
let dbs: TestDatabases;
let client: NatsClient;

beforeAll(async () => {
  nats = await startPrivateNats();
  dbs = await createTestDatabases();
  await migrateInto(dbs.env);
  client = await natsClient(nats);
}, 60_000);

afterAll(async () => {
  await client?.close();
  await nats?.stop();
  await dbs?.drop();
});

async function segment(
  id: string,
  symbols: string[],
  fromMs: number,
  toMs: number,
  tickSeq: number,
  tenant = SEED_NAMES.tenantId,
) {
  await dbs.pg.query(
    `INSERT INTO feed_coverage (tenant_id, segment_id, piece, symbols, from_ms, to_ms, tick_seq)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [tenant, id, Math.floor(toMs / 60_000), symbols, fromMs, toMs, tickSeq],
  );
}

describe('market_pipeline_uncovered_seconds', () => {
  it('counts the forex-hours seconds of the last 24 h that no committed coverage row holds, per symbol', async () => {
    // Two segments of one collector with a 90 s hole an hour ago (a restart).
    const holeFrom = NOW - HOUR + 1; // to_ms is inclusive
    await segment('a-1', ['EUR/USD', 'GBP/USD'], NOW - 25 * HOUR, NOW - HOUR, 0);
    await segment('b-1', ['EUR/USD', 'GBP/USD', 'USD/JPY'], holeFrom + 90_000, NOW, 0);
    // A marker whose ticks the bridge has not committed (tick_seq above the ack floor, which
    // is 0: no tick consumed yet) covers nothing yet, though it spans GBP/USD's hole.
    await segment('c-1', ['GBP/USD'], holeFrom - 1000, holeFrom + 100_000, 5);
    // Another tenant's coverage is not this bridge's.
    await segment('d-1', ['EUR/USD'], holeFrom, holeFrom + 90_000, 0, 'other');

    const registry = new Registry();
    const stop = startCoverageMetrics({
      pool: dbs.pg,
      jsm: client.jsm,
      names: SEED_NAMES,
      registry,
      log: quietLog,
      now: () => NOW,
    });
    try {
      const value = (symbol: string) => metricValue(registry, GAUGE, { symbol });
      await waitFor(
        'the gauge computed',
        () => value('USD/JPY'),
        (v) => v > 0,
      );
      expect(await value('EUR/USD')).toBe(90);
      expect(await value('GBP/USD')).toBe(90);
      // Covered only from b-1's start: the 23 h before it, less the 90 s hole.
      expect(await value('USD/JPY')).toBe((24 * HOUR - HOUR + 1 + 90_000) / 1000);
    } finally {
      stop();
    }
  });
});
