// The upgrade drain of the seed-named consumers (bridge.ts legacyWorkers) next to a live
// pipeline run by hand under the seed's names on the same NATS: the durables bridge-ticks /
// bridge-bars are that pipeline's own, so an operator pipeline's bridge must take nothing of
// it (no share dead-lettered as another tenant's, none stored in its own database), while
// still draining what an upgrade left behind (messages published before tenants were carried).
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { pipelineNames } from '../contracts/subjects.js';
import {
  bridgeEnv,
  migrateInto,
  natsClient,
  startInProcess,
  tickCount,
  type InProcessBridge,
  type NatsClient,
} from '../../../test/support/bridge-harness.js';
import { createTestDatabases, type TestDatabases } from '../../../test/support/databases.js';
import { makeTick, tickOutgoing } from '../../../test/support/market-messages.js';
import { startPrivateNats, type PrivateNats } from '../../../test/support/private-nats.js';
import { waitFor } from '../../../test/support/wait.js';

jest.setTimeout(120_000);

const DAY = 86_400_000;
// Recent enough for the retention the bridge applies on plain PostgreSQL.
const t0 = Math.floor(Date.now() / DAY) * DAY - 2 * DAY + 9 * 3_600_000;

const seedTicks = (symbol: string, n: number, from: number, tenant?: string) =>
  Array.from({ length: n }, (_, i) =>
    tickOutgoing(
      makeTick({
        symbol,
        timestamp_ms: t0 + from + i,
        bid: 1.08 + i / 1e6,
        ask: 1.0802 + i / 1e6,
        ...(tenant ? { tenant_id: tenant } : {}),
      }),
    ),
  );

async function seedPending(client: NatsClient): Promise<number> {
  const info = await client.jsm.consumers.info('MARKET_TICKS', 'bridge-ticks');
  return info.num_pending + info.num_ack_pending;
}

describe('a pipeline run by hand under the seed names, next to an operator pipeline', () => {
  let nats: PrivateNats;
  let handDb: TestDatabases; // the hand-run pipeline's database
  let opDb: TestDatabases; // the operator pipeline's database
  let client: NatsClient;
  const running: InProcessBridge[] = [];
  const start = async (env: Record<string, string>) => {
    const b = await startInProcess(env);
    running.push(b);
    return b;
  };
  const stop = async (b: InProcessBridge) => {
    await b.bridge.stop();
    running.splice(running.indexOf(b), 1);
  };

  beforeAll(async () => {
    nats = await startPrivateNats();
    [handDb, opDb] = await Promise.all([createTestDatabases(), createTestDatabases()]);
    await migrateInto(handDb.env);
    await migrateInto(opDb.env);
    client = await natsClient(nats);
  }, 60_000);

  afterAll(async () => {
    for (const b of running) await b.bridge.stop().catch(() => undefined);
    await client?.close();
    await nats?.close();
    await handDb?.drop();
    await opDb?.drop();
  });

  it("an operator pipeline's bridge takes none of a live seed-named pipeline's messages", async () => {
    const hand = await start(bridgeEnv(nats, handDb.env, { TENANT_ID: 'handco' }));
    await client.publish(seedTicks('EUR/USD', 200, 0, 'handco'));
    await waitFor(
      'the hand-run pipeline stores its first ticks',
      () => tickCount(handDb),
      (n) => n === 200,
    );
    // Another tenant's pipeline, as the operator runs it, on the same NATS.
    const op = await start(bridgeEnv(nats, opDb.env, { PIPELINE_ID: 'market_fx-op', TENANT_ID: 'opco' }));
    for (let k = 1; k <= 4; k++) {
      await client.publish(seedTicks('EUR/USD', 200, k * 1000, 'handco'));
      await new Promise((r) => setTimeout(r, 200));
    }
    await waitFor(
      'every hand-run tick stored by its own bridge',
      () => tickCount(handDb),
      (n) => n >= 1000,
    );
    await waitFor(
      'the seed consumer caught up',
      () => seedPending(client),
      (n) => n === 0,
    );
    expect(await tickCount(handDb, "tenant_id = 'handco'")).toBe(1000);
    expect(await tickCount(opDb)).toBe(0);
    expect(await op.metric('market_pipeline_bridge_dead_letters_total')).toBe(0);
    expect(await hand.metric('market_pipeline_bridge_dead_letters_total')).toBe(0);
    await stop(op);
    await stop(hand);
  });

  it('drains an upgrade leftover, then stops at the first message of a live seed-named pipeline (same tenant, other database)', async () => {
    // Left behind by the previous version (no tenant_id), nothing running under the seed names.
    await client.publish(seedTicks('GBP/USD', 50, 0));
    const op = await start(bridgeEnv(nats, opDb.env, { PIPELINE_ID: 'market_fx-op', TENANT_ID: 'handco' }));
    await waitFor(
      'the leftover drained into the operator pipeline',
      () => tickCount(opDb, "symbol = 'GBP/USD' AND tenant_id = 'handco'"),
      (n) => n === 50,
    );
    await waitFor(
      'the leftover acked',
      () => seedPending(client),
      (n) => n === 0,
    );

    // A pipeline run by hand under the seed names starts publishing (its bridge not up yet):
    // the operator pipeline's drain must hand every one of them back, even of its own tenant.
    const deliveredBefore = (await client.jsm.consumers.info('MARKET_TICKS', 'bridge-ticks')).delivered
      .consumer_seq;
    await client.publish(seedTicks('GBP/USD', 300, 10_000, 'handco'));
    await waitFor(
      'every hand-run tick still pending for its owner',
      () => seedPending(client),
      (n) => n === 300,
    );
    await new Promise((r) => setTimeout(r, 1500)); // a drain that did not stop would take some now
    expect(await seedPending(client)).toBe(300);
    expect(await tickCount(opDb, "symbol = 'GBP/USD'")).toBe(50);
    expect(await op.metric('market_pipeline_bridge_dead_letters_total')).toBe(0);

    // Its own bridge gets all of them, once.
    await start(bridgeEnv(nats, handDb.env, { TENANT_ID: 'handco' }));
    await waitFor(
      'the hand-run pipeline stores all of its ticks',
      () => tickCount(handDb, "symbol = 'GBP/USD'"),
      (n) => n >= 300,
    );
    await waitFor(
      'the seed consumer caught up',
      () => seedPending(client),
      (n) => n === 0,
    );
    expect(await tickCount(handDb, "symbol = 'GBP/USD'")).toBe(300);
    expect(await tickCount(opDb, "symbol = 'GBP/USD'")).toBe(50);
    // What the drain handed back was delivered once more, at most one pull of it (100): not
    // bounced between the server and a still-open pull.
    const seed = await client.jsm.consumers.info('MARKET_TICKS', 'bridge-ticks');
    expect(seed.delivered.consumer_seq - deliveredBefore - 300).toBeLessThanOrEqual(100);
    // The operator pipeline goes on with its own stream.
    const named = pipelineNames({ pipelineId: 'market_fx-op', tenantId: 'handco' });
    await client.publish([
      {
        subject: named.tickSubject('GBP/USD'),
        data: JSON.stringify(makeTick({ symbol: 'GBP/USD', tenant_id: 'handco', timestamp_ms: t0 + 99_999 })),
        msgId: 'op-own-1',
      },
    ]);
    await waitFor(
      'a tick on its own stream',
      () => tickCount(opDb, "symbol = 'GBP/USD'"),
      (n) => n === 51,
    );
  });
});
