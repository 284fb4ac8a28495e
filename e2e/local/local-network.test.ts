import { describe, expect, it } from '@jest/globals';
import net from 'node:net';
import {
  ephemeralRangeStart,
  localPort,
  mapPortVariables,
  mapServiceAddresses,
  podPort,
  POD_PORT_WINDOW,
  type PodPorts,
} from './local-network.js';

const ports: PodPorts = {
  byNumber: new Map([
    [9464, 40001],
    [8765, 40002],
  ]),
  byName: new Map([
    ['metrics', 40001],
    ['polygon', 40002],
  ]),
};

describe('local network of the process kubelet', () => {
  it("moves *_PORT variables that hold one of the pod's container ports, and nothing else", () => {
    expect(
      mapPortVariables(
        {
          METRICS_PORT: '9464',
          SIMULATOR_PORT: '8765',
          TIMESCALEDB_PORT: '5432',
          CLICKHOUSE_PORT: '9464x',
          LIVE_BATCH_SIZE: '9464',
        },
        ports,
      ),
    ).toEqual({
      METRICS_PORT: '40001',
      SIMULATOR_PORT: '40002',
      TIMESCALEDB_PORT: '5432',
      CLICKHOUSE_PORT: '9464x',
      LIVE_BATCH_SIZE: '9464',
    });
  });

  it('finds target ports by number or name', () => {
    expect(localPort(ports, 9464)).toBe(40001);
    expect(localPort(ports, '8765')).toBe(40002);
    expect(localPort(ports, 'polygon')).toBe(40002);
    expect(localPort(ports, 'nope')).toBeUndefined();
  });

  it('points Service DNS names with a Service port at their proxy, in every spelling', () => {
    const services = [{ name: 'fx-simulator', ports: [8765] }];
    const at = (service: string, port: number) =>
      `127.0.0.1:${port === 8765 && service === 'fx-simulator' ? 41000 : 0}`;
    expect(
      mapServiceAddresses(
        {
          POLYGON_WS_URL: 'ws://fx-simulator:8765/forex',
          POLYGON_REST_URL: 'http://fx-simulator.markets.svc.cluster.local:8765',
          SHORT: 'fx-simulator.markets:8765',
          OTHER_PORT: 'ws://fx-simulator:9999/forex',
          PREFIXED: 'ws://my-fx-simulator:8765/forex',
          OTHER_NAMESPACE: 'ws://fx-simulator.elsewhere:8765',
          NATS_URL: 'nats://127.0.0.1:4222',
        },
        'markets',
        services,
        at,
      ),
    ).toEqual({
      POLYGON_WS_URL: 'ws://127.0.0.1:41000/forex',
      POLYGON_REST_URL: 'http://127.0.0.1:41000',
      SHORT: '127.0.0.1:41000',
      OTHER_PORT: 'ws://fx-simulator:9999/forex',
      PREFIXED: 'ws://my-fx-simulator:8765/forex',
      OTHER_NAMESPACE: 'ws://fx-simulator.elsewhere:8765',
      NATS_URL: 'nats://127.0.0.1:4222',
    });
  });

  it('takes pod ports below the ephemeral range, each one free, and skips one a listener holds', async () => {
    const start = await ephemeralRangeStart();
    expect(start).toBeGreaterThan(POD_PORT_WINDOW + 1024); // Linux: 32768 by default
    const first = await podPort();
    expect(first).toBeLessThan(start!);
    expect(first).toBeGreaterThanOrEqual(start! - POD_PORT_WINDOW);
    // Hold the port that comes next: it must be passed over.
    const held = first + 1 < start! ? first + 1 : start! - POD_PORT_WINDOW;
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(held, '127.0.0.1', resolve));
    try {
      const second = await podPort();
      expect(second).not.toBe(held);
      expect(second).not.toBe(first);
      expect(second).toBeLessThan(start!);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });
});
