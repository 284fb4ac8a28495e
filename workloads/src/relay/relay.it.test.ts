// One Polygon key, two pipelines (issue 16): pipeline "src" (tenant srcco) collects from the
// simulator with the key; pipeline "rel" (tenant relco, its own database) has no key and relays
// two of src's three symbols. Real nats-server, PostgreSQL and ClickHouse, each pipeline with
// its own bridge. Each tenant's database gets exactly its ticks, once; the relay restarted in
// the middle of the stream loses and doubles nothing (its stream holds one message per quote);
// src's feed gaps reach rel's gap filler limited to rel's symbols; src's coverage becomes rel's
// own (its tenant, its symbols, its own stream's sequence), so rel's aggregator counts as
// complete what src covered.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Registry } from 'prom-client';
import { awaitCoverage, tickAckFloor } from '../aggregator/coverage.js';
import {
  coverageMessageId,
  coverageSchema,
  feedGapSchema,
  type CoverageMarker,
  type FeedGap,
} from '../contracts/messages.js';
import { pipelineNames } from '../contracts/subjects.js';
import { ensureStreams } from '../nats/streams.js';
import { loadConfig } from '../runtime/config.js';
import { relayConfigSchema } from './config.js';
import { startRelay, type Relay } from './relay.js';
import {
  bridgeEnv,
  migrateInto,
  natsClient,
  quietLog,
  startInProcess,
  type InProcessBridge,
  type NatsClient,
} from '../../../test/support/bridge-harness.js';
import { readStream, startCollector, type RunningCollector } from '../../../test/support/collector.js';
import { createTestDatabases, type TestDatabases } from '../../../test/support/databases.js';
import { makeTick } from '../../../test/support/market-messages.js';
import { metricValue } from '../../../test/support/metrics.js';
import { startPrivateNats, type PrivateNats } from '../../../test/support/private-nats.js';
import { startTestSimulator, TEST_API_KEY } from '../../../test/support/simulator.js';
import { waitFor } from '../../../test/support/wait.js';
import type { Simulator } from '../simulator/simulator-server.js';

jest.setTimeout(180_000);

const SRC = pipelineNames({ pipelineId: 'market_src', tenantId: 'srcco' });
const REL = pipelineNames({ pipelineId: 'market_rel', tenantId: 'relco' });
const RELAYED = ['EUR/USD', 'USD/JPY'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a relay pipeline: one Polygon key, two pipelines', () => {
  let nats: PrivateNats;
  let srcDb: TestDatabases;
  let relDb: TestDatabases;
  let client: NatsClient;
  let simulator: Simulator;
  let collector: RunningCollector | undefined;
  let relay: { relay: Relay; registry: Registry } | undefined;
  const bridges: InProcessBridge[] = [];

  const startRelayOf = async () => {
    const registry = new Registry();
    const config = loadConfig(relayConfigSchema, {
      NATS_URL: nats.url,
      PIPELINE_ID: REL.pipelineId!,
      TENANT_ID: REL.tenantId,
      SYMBOLS: RELAYED.join(','),
      RELAY_SOURCE_PIPELINE_ID: SRC.pipelineId!,
      RELAY_SOURCE_TENANT_ID: SRC.tenantId,
      RELAY_BATCH_SIZE: '50',
      RELAY_ACK_WAIT_MS: '5000',
    });
    relay = { relay: await startRelay(config, quietLog, registry), registry };
  };

  beforeAll(async () => {
    nats = await startPrivateNats();
    [srcDb, relDb] = await Promise.all([createTestDatabases(), createTestDatabases()]);
    await migrateInto(srcDb.env);
    await migrateInto(relDb.env);
    client = await natsClient(nats);
    simulator = await startTestSimulator({ quotesPerSecond: 20 });
  }, 60_000);

  afterAll(async () => {
    await relay?.relay.stop();
    await collector?.collector.stop();
    for (const b of bridges) await b.bridge.stop().catch(() => undefined);
    await simulator?.close();
    await client?.close();
    await nats?.close();
    await srcDb?.drop();
    await relDb?.drop();
  });

  it('both tenants get exactly their ticks once, across a relay restart mid-stream', async () => {
    for (const [names, dbs] of [
      [SRC, srcDb],
      [REL, relDb],
    ] as const) {
      bridges.push(
        await startInProcess(
          bridgeEnv(nats, dbs.env, { PIPELINE_ID: names.pipelineId!, TENANT_ID: names.tenantId }),
        ),
      );
    }
    collector = await startCollector({
      NATS_URL: nats.url,
      PIPELINE_ID: SRC.pipelineId!,
      TENANT_ID: SRC.tenantId,
      SYMBOLS: 'EUR/USD,GBP/USD,USD/JPY',
      POLYGON_WS_URL: simulator.webSocketUrl,
      POLYGON_API_KEY: TEST_API_KEY,
      // A marker every 250 ms, so the short run has several (and the relay restart meets some).
      COLLECTOR_COVERAGE_INTERVAL_MS: '250',
      COLLECTOR_COVERAGE_SKEW_MS: '200',
    });
    await startRelayOf();
    await waitFor(
      'the relay republishes',
      () =>
        metricValue(relay!.registry, 'market_pipeline_relay_messages_total', {
          kind: 'tick',
          outcome: 'published',
        }),
      (n) => n > 20,
    );
    // The relay dies mid-stream (its connection cut, nothing flushed or acked after), and a
    // new one starts while the collector goes on publishing: what the first had pulled and
    // perhaps republished but not acked is redelivered to the second, whose copies carry the
    // same ids.
    await relay!.relay.nats.nc.close();
    await relay!.relay.stop();
    await sleep(1500);
    await startRelayOf();
    await sleep(1500);
    // The end of the stream: the collector stops, the relay catches up.
    await collector.collector.stop();
    collector = undefined;
    const sourceTicks = await readStream(client.nc, SRC.streams.ticks.name);
    const relayedCount = sourceTicks.filter((m) =>
      RELAYED.some((s) => m.subject === SRC.tickSubject(s)),
    ).length;
    expect(relayedCount).toBeGreaterThan(50);
    await waitFor(
      'the relay caught up',
      async () => (await client.jsm.streams.info(REL.streams.ticks.name)).state.messages,
      (n) => n >= relayedCount,
    );
    await sleep(1000); // a doubled message would land now
    // Not one doubled message in the relay's stream: one per quote of its symbols.
    expect((await client.jsm.streams.info(REL.streams.ticks.name)).state.messages).toBe(relayedCount);

    const quotes = async (dbs: TestDatabases, where: string) =>
      (
        await dbs.pg.query<{ q: string }>(
          `SELECT tenant_id || ' ' || symbol || ' ' || (extract(epoch FROM time) * 1000)::bigint || ' ' || bid || ' ' || ask AS q
             FROM market_ticks WHERE ${where} ORDER BY 1`,
        )
      ).rows.map((r) => r.q);
    await waitFor(
      'src stored its ticks',
      () => quotes(srcDb, 'TRUE').then((q) => q.length),
      (n) => n === sourceTicks.length,
    );
    await waitFor(
      'rel stored its ticks',
      () => quotes(relDb, 'TRUE').then((q) => q.length),
      (n) => n === relayedCount,
    );
    const srcRelayed = await quotes(srcDb, `symbol IN ('EUR/USD', 'USD/JPY')`);
    const rel = await quotes(relDb, 'TRUE');
    expect(rel).toEqual(srcRelayed.map((q) => q.replace(/^srcco /, 'relco ')));
    expect(await quotes(relDb, "tenant_id <> 'relco' OR symbol = 'GBP/USD'")).toEqual([]);
    expect(await quotes(srcDb, "tenant_id <> 'srcco'")).toEqual([]);
    for (const b of bridges) expect(await b.metric('market_pipeline_bridge_dead_letters_total')).toBe(0);

    // Coverage: rel's feed_coverage covers what src's does, for rel's symbols only, once
    // every marker is relayed; each row's tick_seq is one of rel's own stream (at or below its
    // bridge's ack floor), so rel's aggregator counts it.
    const segments = async (dbs: TestDatabases, tenant: string) =>
      (
        await dbs.pg.query<{
          segment_id: string;
          symbols: string[];
          from_ms: string;
          to_ms: string;
          tick_seq: string;
        }>('SELECT segment_id, symbols, from_ms, to_ms, tick_seq FROM feed_coverage WHERE tenant_id = $1', [
          tenant,
        ])
      ).rows;
    const srcSegments = await waitFor(
      "src's coverage stored",
      () => segments(srcDb, SRC.tenantId),
      (rows) => rows.length > 0,
    );
    const span = (rows: { segment_id: string; from_ms: string; to_ms: string }[]) => {
      const bySegment = new Map<string, [number, number]>();
      for (const r of rows) {
        const [from, to] = bySegment.get(r.segment_id) ?? [Infinity, -Infinity];
        bySegment.set(r.segment_id, [Math.min(from, Number(r.from_ms)), Math.max(to, Number(r.to_ms))]);
      }
      return [...bySegment].sort();
    };
    // Two collector segments at most (one process), each relayed as such.
    await waitFor(
      "rel's coverage caught up with src's",
      async () => span(await segments(relDb, REL.tenantId)),
      (rel) => JSON.stringify(rel) === JSON.stringify(span(srcSegments)),
    );
    const relRows = await segments(relDb, REL.tenantId);
    for (const r of relRows) expect(r.symbols).toEqual(RELAYED);
    const relFloor = await tickAckFloor(client.jsm, REL);
    const relLast = (await client.jsm.streams.info(REL.streams.ticks.name)).state.last_seq;
    expect(relFloor).toBe(relLast);
    for (const r of relRows) expect(Number(r.tick_seq)).toBeLessThanOrEqual(relFloor);
    const [, [from, to]] = span(srcSegments)[0]!;
    const decided = await awaitCoverage(
      { pool: relDb.pg, jsm: client.jsm, names: REL, tenantId: REL.tenantId, hours: 'always' },
      [...RELAYED, 'GBP/USD'],
      from,
      to + 1,
      0,
    );
    // The covered window counts as complete for rel's symbols; GBP/USD is not rel's.
    for (const s of RELAYED) expect([s, decided.uncoveredMs(s, from, to + 1)]).toEqual([s, 0]);
    expect(decided.uncoveredMs('GBP/USD', from, to + 1)).toBe(to + 1 - from);
    expect(to - from).toBeGreaterThan(1000);
  });

  it("relays the source's feed gaps limited to its symbols, and refuses another tenant's tick", async () => {
    const gap = (symbols: string[], start: number): FeedGap => ({
      tenant_id: SRC.tenantId,
      kind: 'disconnect',
      symbols,
      start_ms: start,
      end_ms: start + 60_000,
      detected_at: new Date().toISOString(),
    });
    const now = Date.now();
    await client.publish([
      { subject: SRC.feedGapSubject, data: JSON.stringify(gap(['EUR/USD', 'GBP/USD'], now)), msgId: 'g1' },
      { subject: SRC.feedGapSubject, data: JSON.stringify(gap(['GBP/USD'], now + 1)), msgId: 'g2' },
      {
        subject: SRC.tickSubject('EUR/USD'),
        data: JSON.stringify(makeTick({ symbol: 'EUR/USD', tenant_id: 'intruder', timestamp_ms: now })),
        msgId: 'foreign-tick',
      },
    ]);
    await waitFor(
      'the foreign tick refused',
      () =>
        metricValue(relay!.registry, 'market_pipeline_relay_dead_letters_total', { reason: 'wrong_tenant' }),
      (n) => n === 1,
    );
    await waitFor(
      'the gap relayed',
      async () => (await client.jsm.streams.info(REL.streams.events.name)).state.messages,
      (n) => n >= 1,
    );
    await sleep(1000);
    const events = await readStream(client.nc, REL.streams.events.name, REL.feedGapSubject);
    expect(events.map((m) => m.subject)).toEqual([REL.feedGapSubject]);
    const relayed = feedGapSchema.parse(events[0]!.json());
    expect(relayed).toMatchObject({
      tenant_id: 'relco',
      symbols: ['EUR/USD'],
      start_ms: now,
      end_ms: now + 60_000,
    });
    const letters = await readStream(client.nc, REL.streams.dlq.name);
    expect(letters.map((m) => m.headers?.get('Mp-Dlq-Reason'))).toEqual([
      expect.stringMatching(/^wrong_tenant: the source message is for tenant intruder/),
    ]);
    expect(await quotesOf(relDb, 'intruder')).toBe(0);
  });
});

async function quotesOf(dbs: TestDatabases, tenant: string): Promise<number> {
  const r = await dbs.pg.query('SELECT count(*)::int AS n FROM market_ticks WHERE tenant_id = $1', [tenant]);
  return r.rows[0].n;
}

describe('a relay down longer than its source keeps ticks', () => {
  let nats: PrivateNats;
  let client: NatsClient;
  afterAll(async () => {
    await client?.close();
    await nats?.close();
  });

  it('reports what the source stream dropped before the relay read it as a feed gap of its symbols', async () => {
    nats = await startPrivateNats();
    client = await natsClient(nats);
    // The source keeps ticks 1.5 s only.
    await ensureStreams(client.jsm, { maxAgeMs: 1500, duplicateWindowMs: 1000 }, SRC);
    const ticks = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => {
        const tick = makeTick({ symbol: 'EUR/USD', tenant_id: SRC.tenantId, timestamp_ms: from + i });
        return { subject: SRC.tickSubject('EUR/USD'), data: JSON.stringify(tick), msgId: `s${from + i}` };
      });
    const start = async () => {
      const registry = new Registry();
      const config = loadConfig(relayConfigSchema, {
        NATS_URL: nats.url,
        PIPELINE_ID: REL.pipelineId!,
        TENANT_ID: REL.tenantId,
        SYMBOLS: RELAYED.join(','),
        RELAY_SOURCE_PIPELINE_ID: SRC.pipelineId!,
        RELAY_SOURCE_TENANT_ID: SRC.tenantId,
      });
      return startRelay(config, quietLog, registry);
    };
    const relayedTicks = async () => (await client.jsm.streams.info(REL.streams.ticks.name)).state.messages;

    let relay = await start();
    const t0 = Date.now();
    await client.publish(ticks(t0, 10));
    await waitFor('the first ticks relayed', relayedTicks, (n) => n === 10);
    await relay.stop();
    // Down while the source's stream drops what it published meanwhile.
    const lostFrom = Date.now();
    await client.publish(ticks(lostFrom, 10));
    await waitFor(
      'the source stream emptied by its max age',
      async () => (await client.jsm.streams.info(SRC.streams.ticks.name)).state.messages,
      (n) => n === 0,
    );
    const after = Date.now();
    await client.publish(ticks(after, 5));
    // The source's marker covers all of it, the ticks the relay never read included.
    const marker: CoverageMarker = {
      tenant_id: SRC.tenantId,
      segment_id: 'src-segment',
      symbols: ['EUR/USD', 'GBP/USD'],
      from_ms: t0,
      to_ms: after + 4,
      tick_seq: (await client.jsm.streams.info(SRC.streams.ticks.name)).state.last_seq,
      emitted_at: new Date().toISOString(),
    };
    await client.publish([
      {
        subject: SRC.coverageSubject,
        data: JSON.stringify(marker),
        msgId: coverageMessageId(marker, SRC.idScope),
      },
    ]);
    relay = await start();
    try {
      await waitFor('the later ticks relayed', relayedTicks, (n) => n === 15);
      await waitFor(
        'a feed gap and a marker relayed',
        async () => (await client.jsm.streams.info(REL.streams.events.name)).state.messages,
        (n) => n === 2,
      );
      const events = await readStream(client.nc, REL.streams.events.name);
      const gap = feedGapSchema.parse(events.find((m) => m.subject === REL.feedGapSubject)!.json());
      const own = coverageSchema.parse(events.find((m) => m.subject === REL.coverageSubject)!.json());
      // The relay vouches only for the time after what it lost, as a segment of its own.
      expect(own).toMatchObject({
        tenant_id: REL.tenantId,
        segment_id: `src-segment+${gap.end_ms + 1}`,
        symbols: ['EUR/USD'],
        from_ms: gap.end_ms + 1,
        to_ms: after + 4,
        tick_seq: 15,
      });
      expect(gap).toMatchObject({
        tenant_id: REL.tenantId,
        kind: 'disconnect',
        symbols: RELAYED,
        end_ms: after,
      });
      // The span covers every tick the relay never saw.
      expect(gap.start_ms).toBeLessThanOrEqual(lostFrom);
    } finally {
      await relay.stop();
    }
  });
});
