// Least privilege on the bus, against a real nats-server of this test's own whose two users
// have the permissions of contracts/nats-permissions.ts for two pipelines: each pipeline's
// workloads work with their own user, and a pipeline configured with the other's names (its
// PIPELINE_ID) is refused by the server with a permissions violation that names the subject.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Registry } from 'prom-client';
import { bridgeConfigSchema } from '../bridge/config.js';
import { startBridge } from '../bridge/bridge.js';
import { FeedGapInbox } from '../backfill/feed-gaps.js';
import {
  coverageMessageId,
  coverageSchema,
  feedGapMessageId,
  type CoverageMarker,
} from '../contracts/messages.js';
import { natsPermissionsConfig } from '../contracts/nats-permissions.js';
import { pipelineNames, type PipelineNames } from '../contracts/subjects.js';
import { loadConfig } from '../runtime/config.js';
import { relayConfigSchema } from '../relay/config.js';
import { startRelay } from '../relay/relay.js';
import { connectPipelineNats, type NatsHandle } from './connection.js';
import { publishConfirmed } from './publish.js';
import { DEFAULT_STREAM_SETTINGS, ensureStreams } from './streams.js';
import { bridgeEnv, migrateInto, quietLog, tickCount } from '../../../test/support/bridge-harness.js';
import { createTestDatabases, type TestDatabases } from '../../../test/support/databases.js';
import { makeTick, outgoingOf } from '../../../test/support/market-messages.js';
import { natsServerBinary } from '../../../test/support/nats-server-bin.js';
import { freePort, waitForPort, type PrivateNats } from '../../../test/support/private-nats.js';
import { readStream, startCollector, waitUntil } from '../../../test/support/collector.js';
import { startTestSimulator, TEST_API_KEY } from '../../../test/support/simulator.js';
import type { Simulator } from '../simulator/simulator-server.js';

jest.setTimeout(120_000);

const A = pipelineNames({ pipelineId: 'perm_fx-a', tenantId: 'acme' });
const B = pipelineNames({ pipelineId: 'perm_fx-b', tenantId: 'globex' });
/** A relay of A (source.relay): read-only on A's streams through its own three durables. */
const C = pipelineNames({ pipelineId: 'perm_fx-c', tenantId: 'initech' });
const USERS = {
  a: { user: 'fx-a', password: 'pa-secret' },
  b: { user: 'fx-b', password: 'pb-secret' },
  c: { user: 'fx-c', password: 'pc-secret' },
};

/** One account with JetStream; each pipeline's user gets exactly its own permissions. */
function serverConfig(port: number, store: string): string {
  const user = (u: { user: string; password: string }, names: PipelineNames, relayFrom?: PipelineNames) =>
    `      { user: "${u.user}", password: "${u.password}",\n${natsPermissionsConfig(names, '        ', relayFrom)}\n      }`;
  return [
    `listen: 127.0.0.1:${port}`,
    `jetstream { store_dir: "${store}" }`,
    'accounts {',
    '  MARKET {',
    '    jetstream: enabled',
    '    users: [',
    user(USERS.a, A) + ',',
    user(USERS.b, B) + ',',
    user(USERS.c, C, A),
    '    ]',
    '  }',
    '}',
  ].join('\n');
}

async function startServer(): Promise<PrivateNats & { child: ChildProcess }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mp-nats-perm-'));
  const port = await freePort();
  const conf = path.join(dir, 'nats.conf');
  writeFileSync(conf, serverConfig(port, path.join(dir, 'js')));
  const child = spawn(natsServerBinary(), ['-c', conf], { stdio: 'ignore' });
  await waitForPort(port, 10_000, 'nats-server with permissions');
  const stop = async () => {
    if (child.exitCode !== null) return;
    await new Promise<void>((resolve) => (child.once('exit', () => resolve()), child.kill('SIGTERM')));
  };
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    child,
    stop,
    restart: () => Promise.reject(new Error('not supported')),
    close: async () => (await stop(), rmSync(dir, { recursive: true, force: true })),
  };
}

const creds = (u: { user: string; password: string }) => ({ NATS_USER: u.user, NATS_PASSWORD: u.password });

describe('NATS permissions per pipeline (a real nats-server with two users)', () => {
  let server: PrivateNats;
  let dbs: TestDatabases;
  let simulator: Simulator | undefined;
  const handles: NatsHandle[] = [];

  const connectAs = async (u: { user: string; password: string }, names: PipelineNames) => {
    const h = await connectPipelineNats(
      { NATS_URL: server.url, ...creds(u) },
      names,
      'permission-test',
      quietLog,
      { waitOnFirstConnect: false, maxReconnectAttempts: 0 },
    );
    handles.push(h);
    return h;
  };

  beforeAll(async () => {
    server = await startServer();
    dbs = await createTestDatabases();
    await migrateInto(dbs.env);
  }, 60_000);

  afterAll(async () => {
    await simulator?.close();
    for (const h of handles) await h.nc.close().catch(() => undefined);
    await server?.close();
    await dbs?.drop();
  });

  it('lets each pipeline run its collector, bridge and gap filler with its own user', async () => {
    simulator = await startTestSimulator({ symbols: ['EUR/USD', 'USD/JPY'] });
    for (const [u, names] of [
      [USERS.a, A],
      [USERS.b, B],
    ] as const) {
      const env = bridgeEnv(server, dbs.env, {
        ...creds(u),
        PIPELINE_ID: names.pipelineId!,
        TENANT_ID: names.tenantId,
      });
      const collector = await startCollector({
        ...env,
        SYMBOLS: 'EUR/USD,USD/JPY',
        POLYGON_WS_URL: `ws://127.0.0.1:${simulator.port}/forex`,
        POLYGON_API_KEY: TEST_API_KEY,
      });
      const bridge = await startBridge(loadConfig(bridgeConfigSchema, env), quietLog, new Registry());
      try {
        await waitFor(`ticks of ${names.tenantId} stored`, () =>
          tickCount(dbs, 'tenant_id = $1', [names.tenantId]).then((n) => n >= 5),
        );
      } finally {
        await collector.collector.stop();
        await bridge.stop();
      }
      // The gap filler's durable consumer with a filter, its fetch and its acks.
      const h = await connectAs(u, names);
      const js = jetstream(h.nc);
      const jsm = await jetstreamManager(h.nc);
      const gap = {
        tenant_id: names.tenantId,
        kind: 'disconnect' as const,
        symbols: ['EUR/USD'],
        start_ms: 1,
        end_ms: 2,
        detected_at: new Date().toISOString(),
      };
      await publishConfirmed(js, [
        {
          subject: names.feedGapSubject,
          data: JSON.stringify(gap),
          msgId: feedGapMessageId(gap, names.idScope),
        },
      ]);
      const inbox = await FeedGapInbox.open(js, jsm, names, quietLog);
      expect((await inbox.receive()).map((r) => r.gap)).toEqual([gap]);
      await inbox.ackAll();
    }
  });

  it("refuses a pipeline configured with the other's names, naming the subject", async () => {
    // User A with pipeline B's PIPELINE_ID: the bridge cannot even look at B's streams.
    const env = bridgeEnv(server, dbs.env, {
      ...creds(USERS.a),
      PIPELINE_ID: B.pipelineId!,
      TENANT_ID: 'globex',
    });
    // (The first thing refused is the subscription to B's reply inboxes.)
    await expect(startBridge(loadConfig(bridgeConfigSchema, env), quietLog, new Registry())).rejects.toThrow(
      /Permissions Violation for (Subscription to "_INBOX_perm_fx-b\.|Publish to "\$JS\.API\.STREAM\.(INFO|CREATE)\.MARKET_TICKS_perm_fx-b")/,
    );
    // Publishing into B's subjects or reading B's stream with A's user, under A's own inboxes.
    const h = await connectAs(USERS.a, A);
    const js = jetstream(h.nc);
    await expect(publishConfirmed(js, [outgoingOf(B).tick(makeTick({ tenant_id: 'acme' }))])).rejects.toThrow(
      /Permissions Violation for Publish to "mp\.perm_fx-b\.ticks\.EURUSD"/,
    );
    await expect(js.consumers.get(B.streams.ticks.name, 'bridge-ticks')).rejects.toThrow(
      /Permissions Violation for Publish to "\$JS\.API\.CONSUMER\.INFO\.MARKET_TICKS_perm_fx-b\.bridge-ticks"/,
    );
    // Nothing of A's reached B's tables under B's tenant.
    expect(
      await tickCount(dbs, 'tenant_id = $1 AND symbol NOT IN ($2, $3)', ['globex', 'EUR/USD', 'USD/JPY']),
    ).toBe(0);
  });

  it("lets a relay read its source's stream through its own durables, and nothing more", async () => {
    // A's stream holds ticks of the first test.
    const relay = await startRelay(
      loadConfig(relayConfigSchema, {
        NATS_URL: server.url,
        ...creds(USERS.c),
        PIPELINE_ID: C.pipelineId!,
        TENANT_ID: C.tenantId,
        SYMBOLS: 'EUR/USD',
        RELAY_SOURCE_PIPELINE_ID: A.pipelineId!,
        RELAY_SOURCE_TENANT_ID: A.tenantId,
      }),
      quietLog,
      new Registry(),
    );
    try {
      const h = await connectAs(USERS.c, C);
      const jsm = await jetstreamManager(h.nc);
      await waitFor("A's EUR/USD ticks relayed into C's stream", async () => {
        const info = await jsm.streams.info(C.streams.ticks.name);
        return info.state.messages >= 1;
      });
      // A's coverage marker reaches C as C's own, through C's coverage durable on A's events.
      const a = await connectAs(USERS.a, A);
      const marker: CoverageMarker = {
        tenant_id: A.tenantId,
        segment_id: 'perm-segment',
        symbols: ['EUR/USD', 'GBP/USD'],
        from_ms: Date.now() - 60_000,
        to_ms: Date.now(),
        tick_seq: (await (await jetstreamManager(a.nc)).streams.info(A.streams.ticks.name)).state.last_seq,
        emitted_at: new Date().toISOString(),
      };
      await publishConfirmed(jetstream(a.nc), [
        {
          subject: A.coverageSubject,
          data: JSON.stringify(marker),
          msgId: coverageMessageId(marker, A.idScope),
        },
      ]);
      await waitFor("A's marker relayed as C's", async () =>
        (await readStream(h.nc, C.streams.events.name, C.coverageSubject)).some(
          (m) => coverageSchema.parse(m.json()).segment_id === 'perm-segment',
        ),
      );
      const relayed = (await readStream(h.nc, C.streams.events.name, C.coverageSubject))
        .map((m) => coverageSchema.parse(m.json()))
        .find((m) => m.segment_id === 'perm-segment');
      expect(relayed).toMatchObject({ tenant_id: C.tenantId, symbols: ['EUR/USD'], to_ms: marker.to_ms });
      const js = jetstream(h.nc);
      // Read-only: no publish into A's subjects, no other consumer of A's stream.
      await expect(
        publishConfirmed(js, [outgoingOf(A).tick(makeTick({ tenant_id: 'initech' }))]),
      ).rejects.toThrow(/Permissions Violation for Publish to "mp\.perm_fx-a\.ticks\.EURUSD"/);
      await expect(js.consumers.get(A.streams.ticks.name, 'bridge-ticks')).rejects.toThrow(
        /Permissions Violation for Publish to "\$JS\.API\.CONSUMER\.INFO\.MARKET_TICKS_perm_fx-a\.bridge-ticks"/,
      );
      await expect(jsm.streams.update(A.streams.ticks.name, { max_age: 1 })).rejects.toThrow(
        /Permissions Violation for Publish to "\$JS\.API\.STREAM\.UPDATE\.MARKET_TICKS_perm_fx-a"/,
      );
    } finally {
      await relay.stop();
    }
  });

  it('refuses the seed names to a pipeline user (no ticks.> for anyone but their owner)', async () => {
    const h = await connectAs(USERS.b, B);
    const jsm = await jetstreamManager(h.nc);
    await expect(ensureStreams(jsm, DEFAULT_STREAM_SETTINGS)).rejects.toThrow(
      /Permissions Violation for Publish to "\$JS\.API\.STREAM\.(INFO|CREATE)\.MARKET_TICKS"/,
    );
  });
});

async function waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
  await waitUntil(what, check, 30_000);
}
