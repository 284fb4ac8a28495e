// The simulator's WebSocket feed over real sockets: Polygon's handshake, auth, per-topic
// acks, subscriptions, batching, eviction, slow consumers and the test hooks.
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import {
  RecordingClient,
  startTestSimulator,
  TEST_API_KEY,
  type PolygonEvent,
} from '../../../test/support/simulator.js';
import { barCalendar, type AggregateBar } from './bars.js';
import { QuoteGenerator } from './quote-generator.js';
import type { Simulator } from './simulator-server.js';

// Jest's default 5 s is too short for the socket round trips on a busy machine.
jest.setTimeout(30_000);

const status = (s: string, message: string) => ({ ev: 'status', status: s, message });

describe('simulator WebSocket /forex', () => {
  let simulator: Simulator;
  const clients: RecordingClient[] = [];
  const connect = async (url = simulator.webSocketUrl) => {
    const client = await RecordingClient.connect(url);
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    simulator = await startTestSimulator({ quotesPerSecond: 200 });
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  afterAll(() => simulator.close());

  it('greets, authenticates, acknowledges each topic and streams only subscribed pairs in batches', async () => {
    const client = await connect();
    await client.waitFor(() => client.frames.length >= 1);
    expect(client.frames[0]).toBe(
      '[{"ev":"status","status":"connected","message":"Connected Successfully"}]',
    );
    expect(await client.authenticate()).toEqual(status('auth_success', 'authenticated'));
    expect(await client.subscribe('C.EUR/USD,C.USD-JPY,CA.EUR/USD')).toEqual([
      status('success', 'subscribed to: C.EUR/USD'),
      status('success', 'subscribed to: C.USD-JPY'),
      status('success', 'subscribed to: CA.EUR/USD'),
    ]);
    await client.waitFor(() => client.quotes().length >= 200);
    const quotes = client.quotes();
    expect(new Set(quotes.map((q) => q.p))).toEqual(new Set(['EUR/USD', 'USD/JPY']));
    for (const q of quotes) {
      expect(Object.keys(q)).toEqual(['ev', 'p', 'x', 'a', 'b', 't']);
      expect(q.x).toBe(48);
      expect(Number.isInteger(q.t)).toBe(true);
      expect(q.a as number).toBeGreaterThan(q.b as number);
    }
    // 200 quotes/s per pair, sent every 25 ms: frames carry several events.
    const quoteFrames = client.frames.filter((f) => f.includes('"ev":"C"'));
    expect(Math.max(...quoteFrames.map((f) => (JSON.parse(f) as unknown[]).length))).toBeGreaterThan(2);
    // Each pair's quotes come in time order, one per 5 ms grid point.
    const eur = quotes.filter((q) => q.p === 'EUR/USD').map((q) => q.t as number);
    expect(eur.every((t, i) => i === 0 || t - eur[i - 1]! === 5)).toBe(true);
  });

  it('sends the deterministic generator quotes, consistent with REST bars', async () => {
    const client = await connect();
    await client.authenticate();
    await client.subscribe('C.XAU/USD');
    const generator = new QuoteGenerator(42, 'XAU/USD');
    await client.waitFor(() => client.quotes().length >= 500, 15_000);
    const quotes = client.quotes();
    for (const q of quotes.slice(0, 50)) {
      const expected = generator.quoteAt(q.t as number);
      expect([q.b, q.a]).toEqual([expected.bid, expected.ask]);
    }
    // A whole second received over the socket equals the REST 1-second bar of that second.
    const second = barCalendar(1, 'second').next(barCalendar(1, 'second').floor(quotes[0]!.t as number));
    const inSecond = quotes.filter((q) => (q.t as number) >= second && (q.t as number) < second + 1000);
    expect(inSecond).toHaveLength(200);
    const mids = inSecond.map((q) => ((q.b as number) + (q.a as number)) / 2);
    const response = await fetch(
      `${simulator.restUrl}/v2/aggs/ticker/C:XAUUSD/range/1/second/${second}/${second}?apiKey=${TEST_API_KEY}`,
    );
    const body = (await response.json()) as { results: AggregateBar[] };
    expect(body.results).toHaveLength(1);
    expect(body.results[0]).toMatchObject({
      t: second,
      o: mids[0],
      h: Math.max(...mids),
      l: Math.min(...mids),
      c: mids.at(-1),
      n: 200,
      v: 200,
    });
  });

  it('stops a pair after unsubscribe and replaces single pairs with C.*', async () => {
    const client = await connect();
    await client.authenticate();
    await client.subscribe('C.EUR/USD,C.GBP/USD');
    await client.waitFor(() => client.quotes().some((q) => q.p === 'GBP/USD'));
    expect(await client.subscribe('C.EUR/USD', 'unsubscribe')).toEqual([
      status('success', 'unsubscribed to: C.EUR/USD'),
    ]);
    const afterAck = client.events.length;
    await client.waitFor(() => client.events.slice(afterAck).filter((e) => e.ev === 'C').length >= 50);
    expect(new Set(client.events.slice(afterAck).map((e) => e.p))).toEqual(new Set(['GBP/USD']));

    await client.subscribe('C.*');
    const afterAll = client.events.length;
    await client.waitFor(() => new Set(client.events.slice(afterAll).map((e) => e.p)).size >= 4);
    expect(new Set(client.events.slice(afterAll).map((e) => e.p))).toEqual(
      new Set(['EUR/USD', 'GBP/USD', 'USD/JPY', 'XAU/USD']),
    );
  });

  it('answers a subscription before auth with auth_required and keeps the connection', async () => {
    const client = await connect();
    client.send({ action: 'subscribe', params: 'C.EUR/USD' });
    await client.waitFor(() => client.statuses().length >= 2);
    expect(client.statuses()[1]).toMatchObject({ status: 'auth_required' });
    expect(await client.authenticate()).toMatchObject({ status: 'auth_success' });
    expect(client.closed).toBeUndefined();
  });

  it('rejects a wrong key with auth_failed and closes the connection', async () => {
    const client = await connect();
    expect(await client.authenticate('wrong-key')).toEqual(status('auth_failed', 'authentication failed'));
    expect((await client.waitForClose()).code).toBe(1008);
  });

  it('evicts the older connection of a key with max_connections', async () => {
    const older = await connect();
    await older.authenticate();
    await older.subscribe('C.EUR/USD');
    await older.waitFor(() => older.quotes().length > 0);
    const newer = await connect();
    await newer.authenticate();
    await newer.subscribe('C.EUR/USD');
    const closed = await older.waitForClose();
    expect(older.statuses().at(-1)).toEqual(
      status('max_connections', 'Maximum number of connections exceeded.'),
    );
    expect(closed.code).toBe(1008);
    const before = newer.quotes().length;
    await newer.waitFor(() => newer.quotes().length > before + 20);
    expect(newer.closed).toBeUndefined();
  });

  it('reports unknown actions and malformed messages without closing', async () => {
    const client = await connect();
    client.socket.send('not json');
    client.send({ action: 'dance', params: '' });
    await client.waitFor(() => client.statuses().length >= 3);
    expect(
      client
        .statuses()
        .slice(1)
        .map((s: PolygonEvent) => s.status),
    ).toEqual(['error', 'error']);
    expect(client.closed).toBeUndefined();
  });

  it('drops every client on POST /admin/disconnect (TCP reset or force_disconnect)', async () => {
    const client = await connect();
    await client.authenticate();
    const reply = await fetch(`${simulator.restUrl}/admin/disconnect`, { method: 'POST' });
    expect(await reply.json()).toEqual({ disconnected: 1 });
    expect((await client.waitForClose()).code).toBe(1006);

    const polite = await connect();
    await polite.authenticate();
    await fetch(`${simulator.restUrl}/admin/disconnect?mode=force_disconnect`, { method: 'POST' });
    expect((await polite.waitForClose()).code).toBe(1001);
    expect(polite.statuses().at(-1)).toMatchObject({ status: 'force_disconnect' });
  });

  it('refuses upgrades on other paths', async () => {
    await expect(
      RecordingClient.connect(simulator.webSocketUrl.replace('/forex', '/stocks')),
    ).rejects.toThrow('404');
  });
});

describe('simulator WebSocket test hooks and protection', () => {
  it('closes a connection that does not authenticate in time', async () => {
    const simulator = await startTestSimulator({ authTimeoutMs: 300 });
    try {
      const client = await RecordingClient.connect(simulator.webSocketUrl);
      const closed = await client.waitForClose();
      expect(client.statuses().at(-1)).toMatchObject({ status: 'auth_timeout' });
      expect(closed.code).toBe(1008);
    } finally {
      await simulator.close();
    }
  });

  it('drops each connection after the configured lifetime', async () => {
    const simulator = await startTestSimulator({ connectionLifetimeMs: 300 });
    try {
      const client = await RecordingClient.connect(simulator.webSocketUrl);
      await client.authenticate();
      expect((await client.waitForClose()).code).toBe(1006);
    } finally {
      await simulator.close();
    }
  });

  it('closes a client that stops reading with slow_consumer', async () => {
    const simulator = await startTestSimulator({ quotesPerSecond: 5000, maxBufferedBytes: 64 * 1024 });
    try {
      const client = await RecordingClient.connect(simulator.webSocketUrl);
      await client.authenticate();
      await client.subscribe('C.*');
      // Stop reading: the kernel buffers fill, then the server's queue passes its bound.
      const tcp = (client.socket as unknown as { _socket: { pause(): void; resume(): void } })._socket;
      tcp.pause();
      const deadline = Date.now() + 30_000;
      while (!simulator.sockets.list().some((s) => s.closing) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      tcp.resume();
      const closed = await client.waitForClose();
      expect(client.statuses().at(-1)).toMatchObject({ status: 'slow_consumer' });
      expect(closed.code).toBe(1008);
    } finally {
      await simulator.close();
    }
  });
});
