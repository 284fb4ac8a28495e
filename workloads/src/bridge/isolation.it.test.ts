// Many pipelines on one set of servers (issue 16): three pipelines on one NATS, one
// PostgreSQL and one ClickHouse server. A (tenant acme) and C (tenant initech) share a
// database, B (tenant globex) has its own; A and B collect the same symbol from the same feed
// (identical quotes), C a symbol of its own and one in common. Each pipeline's messages are
// built and published by the product's own code (the collector's TickEncoder, the
// aggregator's sendBars) under that pipeline's names, and each pipeline's bridge runs with
// only what the operator sets (PIPELINE_ID, TENANT_ID). Every tick and bar must land exactly
// once, under its own tenant, in its own database; a message for another tenant goes to the
// pipeline's dead-letter subject with the reason, counted, and is stored nowhere.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { JsMsg } from '@nats-io/jetstream';
import { sendBars } from '../aggregator/bar-message.js';
import { TickEncoder } from '../collector/quote-to-tick.js';
import { ohlcvBar, type Bar } from '../contracts/messages.js';
import { pipelineNames, type PipelineNames } from '../contracts/subjects.js';
import { publishConfirmed } from '../nats/publish.js';
import { DEFAULT_STREAM_SETTINGS, ensureStreams } from '../nats/streams.js';
import {
  bridgeEnv,
  chRows,
  migrateInto,
  natsClient,
  startInProcess,
  tickCount,
  type InProcessBridge,
  type NatsClient,
} from '../../../test/support/bridge-harness.js';
import { createTestDatabases, type TestDatabases } from '../../../test/support/databases.js';
import { encode, makeTick, outgoingOf, tickOutgoing } from '../../../test/support/market-messages.js';
import { startPrivateNats, type PrivateNats } from '../../../test/support/private-nats.js';
import { waitFor } from '../../../test/support/wait.js';

jest.setTimeout(120_000);

const DAY = 86_400_000;
const t0 = Math.floor(Date.now() / DAY) * DAY - 2 * DAY + 9 * 3_600_000;
const INGESTED = new Date(t0 + 500).toISOString();

interface Pipeline {
  names: PipelineNames;
  symbols: string[];
  dbs: () => TestDatabases;
}

/** The same quotes for everyone who collects a symbol: one feed. */
function quotes(symbol: string, n: number) {
  const base = symbol === 'USD/JPY' ? 151.2 : 1.08;
  return Array.from({ length: n }, (_, i) => ({
    symbol,
    bid: base + i / 1e5,
    ask: base + i / 1e5 + 0.0002,
    exchange: 48,
    timestampMs: t0 + i * 100,
  }));
}

function bars(p: Pipeline): Bar[] {
  return p.symbols.flatMap((symbol) =>
    [0, 1, 2].map((k) =>
      ohlcvBar(
        {
          symbol,
          timeframe: '5m',
          startMs: t0 - (t0 % 300_000) + k * 300_000,
          open: 1.1,
          high: 1.2,
          low: 1.0,
          close: 1.15,
          volume: 10 + k,
          vwap: 1.1,
        },
        {
          tenantId: p.names.tenantId,
          source: 'live_aggregated',
          ingestedAt: new Date(INGESTED),
          pipSizes: {},
        },
      ),
    ),
  );
}

describe('three pipelines on one NATS, PostgreSQL and ClickHouse', () => {
  let nats: PrivateNats;
  let shared: TestDatabases;
  let own: TestDatabases;
  let client: NatsClient;
  const bridges: InProcessBridge[] = [];
  const N = 200;

  const A: Pipeline = {
    names: pipelineNames({ pipelineId: 'market_fx-a', tenantId: 'acme' }),
    symbols: ['EUR/USD', 'GBP/USD'],
    dbs: () => shared,
  };
  const B: Pipeline = {
    names: pipelineNames({ pipelineId: 'market_fx-b', tenantId: 'globex' }),
    symbols: ['EUR/USD', 'GBP/USD'],
    dbs: () => own,
  };
  const C: Pipeline = {
    names: pipelineNames({ pipelineId: 'other_fx-a', tenantId: 'initech' }),
    symbols: ['EUR/USD', 'USD/JPY'],
    dbs: () => shared,
  };
  const pipelines = [A, B, C];

  beforeAll(async () => {
    nats = await startPrivateNats();
    [shared, own] = await Promise.all([createTestDatabases(), createTestDatabases()]);
    await migrateInto(shared.env);
    await migrateInto(own.env);
    client = await natsClient(nats);
  }, 60_000);

  afterAll(async () => {
    for (const b of bridges) await b.bridge.stop().catch(() => undefined);
    await client?.close();
    await nats?.close();
    await shared?.drop();
    await own?.drop();
  });

  it('stores every tick and bar exactly once, under its own tenant only, in its own database', async () => {
    for (const p of pipelines) {
      bridges.push(
        await startInProcess(
          bridgeEnv(nats, p.dbs().env, { PIPELINE_ID: p.names.pipelineId!, TENANT_ID: p.names.tenantId }),
        ),
      );
    }
    for (const p of pipelines) {
      await ensureStreams(client.jsm, DEFAULT_STREAM_SETTINGS, p.names);
      const encoder = new TickEncoder({}, p.names);
      const ticks = p.symbols.flatMap((s) => quotes(s, N)).map((q) => encoder.encode(q, INGESTED));
      // Twice, as a collector re-sending after a lost confirmation would: one copy stays.
      const first = await publishConfirmed(client.js, ticks);
      const again = await publishConfirmed(client.js, ticks);
      expect([first.published, again.duplicates]).toEqual([ticks.length, ticks.length]);
      const sent = await sendBars(client.js, undefined, bars(p), p.names);
      expect(sent.published).toBe(p.symbols.length * 3);
    }

    for (const p of pipelines) {
      const dbs = p.dbs();
      await waitFor(
        `${p.names.tenantId}'s ticks`,
        () => tickCount(dbs, 'tenant_id = $1', [p.names.tenantId]),
        (n) => n >= p.symbols.length * N,
      );
      await waitFor(
        `${p.names.tenantId}'s bars`,
        () =>
          chRows<{ n: string }>(
            dbs,
            'SELECT count() AS n FROM aggregates FINAL WHERE tenant_id = {t:String}',
            {
              t: p.names.tenantId,
            },
          ).then((r) => Number(r[0]!.n)),
        (n) => n >= p.symbols.length * 3,
      );
    }
    // Let any stray delivery land before counting exactly.
    await new Promise((r) => setTimeout(r, 1500));

    const perSymbol = async (dbs: TestDatabases) =>
      (
        await dbs.pg.query<{ tenant_id: string; symbol: string; n: number; distinct_quotes: number }>(
          `SELECT tenant_id, symbol, count(*)::int AS n,
                  count(DISTINCT (time, bid, ask, exchange))::int AS distinct_quotes
             FROM market_ticks GROUP BY 1, 2 ORDER BY 1, 2`,
        )
      ).rows;
    expect(await perSymbol(shared)).toEqual([
      { tenant_id: 'acme', symbol: 'EUR/USD', n: N, distinct_quotes: N },
      { tenant_id: 'acme', symbol: 'GBP/USD', n: N, distinct_quotes: N },
      { tenant_id: 'initech', symbol: 'EUR/USD', n: N, distinct_quotes: N },
      { tenant_id: 'initech', symbol: 'USD/JPY', n: N, distinct_quotes: N },
    ]);
    expect(await perSymbol(own)).toEqual([
      { tenant_id: 'globex', symbol: 'EUR/USD', n: N, distinct_quotes: N },
      { tenant_id: 'globex', symbol: 'GBP/USD', n: N, distinct_quotes: N },
    ]);

    const barsIn = (dbs: TestDatabases) =>
      chRows<{ tenant_id: string; symbol: string; n: string }>(
        dbs,
        'SELECT tenant_id, symbol, count() AS n FROM aggregates GROUP BY tenant_id, symbol ORDER BY tenant_id, symbol',
      ).then((rows) => rows.map((r) => [r.tenant_id, r.symbol, Number(r.n)]));
    // Without FINAL: not one extra row, not even a replaced version.
    expect(await barsIn(shared)).toEqual([
      ['acme', 'EUR/USD', 3],
      ['acme', 'GBP/USD', 3],
      ['initech', 'EUR/USD', 3],
      ['initech', 'USD/JPY', 3],
    ]);
    expect(await barsIn(own)).toEqual([
      ['globex', 'EUR/USD', 3],
      ['globex', 'GBP/USD', 3],
    ]);
    for (const b of bridges) {
      expect(await b.metric('market_pipeline_bridge_dead_letters_total')).toBe(0);
    }
  });

  it("dead-letters a message for another tenant on the pipeline's own DLQ, with the reason, and stores it nowhere", async () => {
    const before = {
      shared: await tickCount(shared, "symbol = 'AUD/USD'"),
      own: await tickCount(own, "symbol = 'AUD/USD'"),
    };
    const foreign = makeTick({ symbol: 'AUD/USD', tenant_id: 'globex', timestamp_ms: t0 });
    const tenantless = makeTick({ symbol: 'AUD/USD', timestamp_ms: t0 + 1 });
    const good = makeTick({ symbol: 'AUD/USD', tenant_id: 'acme', timestamp_ms: t0 + 2 });
    await publishConfirmed(client.js, [foreign, tenantless, good].map(outgoingOf(A.names).tick));
    // A bar of tenant acme on B's subject: B refuses it as well.
    const bar = { ...bars(A)[0]!, symbol: 'AUD/USD' };
    await publishConfirmed(client.js, [
      { subject: B.names.barSubject('AUD/USD', '5m'), data: encode(bar), msgId: 'foreign-bar' },
    ]);

    const [a, b] = bridges;
    await waitFor(
      'the dead letters counted',
      async () =>
        (await a!.metric('market_pipeline_bridge_dead_letters_total', { reason: 'wrong_tenant' })) +
        (await b!.metric('market_pipeline_bridge_dead_letters_total', { reason: 'wrong_tenant' })),
      (n) => n === 3,
    );
    await waitFor(
      'the good tick stored',
      () => tickCount(shared, "symbol = 'AUD/USD'"),
      (n) => n === before.shared + 1,
    );
    expect(await tickCount(shared, "symbol = 'AUD/USD' AND tenant_id <> 'acme'")).toBe(0);
    expect(await tickCount(own, "symbol = 'AUD/USD'")).toBe(before.own);
    expect(
      await chRows(shared, "SELECT 1 FROM aggregates WHERE symbol = 'AUD/USD'").then((r) => r.length),
    ).toBe(0);

    const letters = await readDlq(client, A.names, 2);
    expect(letters.map((l) => l.subject)).toEqual([
      'mp.market_fx-a.dlq.ticks.AUDUSD',
      'mp.market_fx-a.dlq.ticks.AUDUSD',
    ]);
    expect(letters[0]!.reason).toMatch(
      /^wrong_tenant: the message is for tenant globex; this pipeline serves tenant acme/,
    );
    expect(letters[1]!.reason).toMatch(/^wrong_tenant: the message carries no tenant_id/);
    const [barLetter] = await readDlq(client, B.names, 1);
    expect(barLetter!.subject).toBe('mp.market_fx-b.dlq.bars.AUDUSD.5m');
    expect(barLetter!.reason).toMatch(
      /^wrong_tenant: the message is for tenant acme; this pipeline serves tenant globex/,
    );
  });

  it('upgrade: drains what the pipeline left under the seed names once it has a PIPELINE_ID', async () => {
    // The previous version: a bridge under the seed names, tenant legacyco, stopped with a backlog.
    const oldEnv = bridgeEnv(nats, shared.env, { TENANT_ID: 'legacyco' });
    const old = await startInProcess(oldEnv);
    await old.bridge.stop();
    const backlog = Array.from({ length: 50 }, (_, i) =>
      makeTick({ symbol: 'NZD/USD', timestamp_ms: t0 + i, bid: 0.6 + i / 1e5, ask: 0.6002 + i / 1e5 }),
    );
    await publishConfirmed(client.js, backlog.map(tickOutgoing));

    // The new version of the same pipeline: its own streams, and the old backlog drained.
    const upgraded = await startInProcess({ ...oldEnv, PIPELINE_ID: 'market_fx-legacy' });
    bridges.push(upgraded);
    await waitFor(
      'the backlog stored under the pipeline tenant',
      () => tickCount(shared, "symbol = 'NZD/USD' AND tenant_id = 'legacyco'"),
      (n) => n === backlog.length,
    );
    await waitFor(
      'the backlog acked',
      () => seedPending(client),
      (n) => n === 0,
    );
    // A message with a tenant_id is not a leftover (it proves a live publisher under the seed
    // names, seed-drain.it.test.ts): the drain stops there and leaves it to its owner, handed
    // back once (not redelivered to the drain again and again).
    const foreign = makeTick({ symbol: 'NZD/USD', tenant_id: 'globex', timestamp_ms: t0 + 999 });
    await publishConfirmed(client.js, [tickOutgoing(foreign)]);
    await new Promise((r) => setTimeout(r, 3000)); // longer than one pull
    const seed = await client.jsm.consumers.info('MARKET_TICKS', 'bridge-ticks');
    expect([seed.num_pending + seed.num_ack_pending, seed.delivered.consumer_seq]).toEqual([
      1,
      backlog.length + 1,
    ]);
    expect(await upgraded.metric('market_pipeline_bridge_dead_letters_total')).toBe(0);
    expect(await tickCount(shared, "symbol = 'NZD/USD' AND tenant_id <> 'legacyco'")).toBe(0);
    expect(await tickCount(own, "symbol = 'NZD/USD'")).toBe(0);
    // Deleting the old consumer ends the drain; the bridge goes on with its own streams.
    await client.jsm.consumers.delete('MARKET_TICKS', 'bridge-ticks');
    const named = pipelineNames({ pipelineId: 'market_fx-legacy', tenantId: 'legacyco' });
    await publishConfirmed(client.js, [
      outgoingOf(named).tick(makeTick({ symbol: 'NZD/USD', tenant_id: 'legacyco', timestamp_ms: t0 + 5000 })),
    ]);
    await waitFor(
      'a new tick on its own stream',
      () => tickCount(shared, "symbol = 'NZD/USD' AND tenant_id = 'legacyco'"),
      (n) => n === backlog.length + 1,
    );
  });
});

async function seedPending(client: NatsClient): Promise<number> {
  const info = await client.jsm.consumers.info('MARKET_TICKS', 'bridge-ticks');
  return info.num_pending + info.num_ack_pending;
}

async function readDlq(
  client: NatsClient,
  names: PipelineNames,
  expected: number,
): Promise<{ subject: string; reason: string }[]> {
  const consumer = await client.js.consumers.get(names.streams.dlq.name); // ordered, from the start
  const letters: { subject: string; reason: string }[] = [];
  const messages = await consumer.fetch({ max_messages: expected, expires: 10_000 });
  for await (const m of messages as AsyncIterable<JsMsg>) {
    letters.push({ subject: m.subject, reason: m.headers?.get('Mp-Dlq-Reason') ?? '' });
  }
  return letters;
}
