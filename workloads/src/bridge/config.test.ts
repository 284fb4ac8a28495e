import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '../runtime/config.js';
import { bridgeConfigSchema } from './config.js';

const required = {
  NATS_URL: 'nats://nats:4222',
  TIMESCALEDB_HOST: 'timescaledb',
  TIMESCALEDB_USER: 'suho_service',
  TIMESCALEDB_PASSWORD: 'secret',
  CLICKHOUSE_HOST: 'clickhouse',
};

describe('bridge configuration', () => {
  it('applies the batching defaults and the tenant', () => {
    expect(loadConfig(bridgeConfigSchema, required)).toMatchObject({
      LIVE_BATCH_SIZE: 1000,
      LIVE_BATCH_TIMEOUT: 1000,
      HISTORICAL_BATCH_SIZE: 5000,
      HISTORICAL_BATCH_TIMEOUT: 10_000,
      BRIDGE_ACK_WAIT: 5_000,
      BRIDGE_RETENTION_INTERVAL: 3_600_000,
      TENANT_ID: 'system',
      TIMESCALEDB_RETENTION_DAYS: 90,
    });
  });

  it("reads the seed's decimal seconds", () => {
    const config = loadConfig(bridgeConfigSchema, {
      ...required,
      LIVE_BATCH_TIMEOUT: '5.0',
      HISTORICAL_BATCH_TIMEOUT: '0.25',
    });
    expect([config.LIVE_BATCH_TIMEOUT, config.HISTORICAL_BATCH_TIMEOUT]).toEqual([5000, 250]);
  });

  it('takes any batch timeout (held messages get progress replies), but no ack wait under a second, naming the variable', () => {
    expect(loadConfig(bridgeConfigSchema, { ...required, HISTORICAL_BATCH_TIMEOUT: '45' })).toMatchObject({
      HISTORICAL_BATCH_TIMEOUT: 45_000,
      BRIDGE_ACK_WAIT: 5_000,
    });
    const load = () => loadConfig(bridgeConfigSchema, { ...required, BRIDGE_ACK_WAIT: '0.5' });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow("BRIDGE_ACK_WAIT ('0.5'): must be at least 1 s");
    expect(() => loadConfig(bridgeConfigSchema, { ...required, LIVE_BATCH_SIZE: '0' })).toThrow(
      'LIVE_BATCH_SIZE',
    );
  });
});
