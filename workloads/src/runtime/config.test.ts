import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { ConfigError, env, loadConfig } from './config.js';
import { marketEnv, natsEnv, timescaleEnv } from '../contracts/env.js';

describe('configuration from the environment', () => {
  it('parses valid values and applies defaults', () => {
    const cfg = loadConfig(marketEnv.extend(natsEnv.shape), {
      SYMBOLS: 'EUR/USD, XAU/USD',
      PIP_SIZES: 'XAU/USD=0.1',
      NATS_URL: 'nats://nats:4222',
    });
    expect(cfg).toEqual({
      SYMBOLS: ['EUR/USD', 'XAU/USD'],
      PIP_SIZES: { 'XAU/USD': 0.1 },
      TENANT_ID: 'system',
      NATS_URL: 'nats://nats:4222',
      NATS_STREAM_MAX_AGE_SECONDS: 604800,
      NATS_DUPLICATE_WINDOW_SECONDS: 120,
    });
  });

  it('names every wrong or missing variable, and hides secrets', () => {
    let error: unknown;
    try {
      loadConfig(marketEnv.extend(timescaleEnv.shape), {
        SYMBOLS: 'EURUSD',
        PIP_SIZES: 'XAU/USD=big',
        TIMESCALEDB_HOST: 'db',
        TIMESCALEDB_PORT: '99999',
        TIMESCALEDB_PASSWORD: '',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain("SYMBOLS ('EURUSD'): item 1: a symbol is BASE/QUOTE");
    expect(message).toContain("PIP_SIZES ('XAU/USD=big')");
    expect(message).toContain("TIMESCALEDB_PORT ('99999')");
    expect(message).toContain('TIMESCALEDB_USER (unset): required');
    expect(message).toContain('TIMESCALEDB_PASSWORD (unset)');
  });

  it('reads seed-style decimal seconds as milliseconds', () => {
    const cfg = loadConfig(z.object({ LIVE_BATCH_TIMEOUT: env.secondsAsMs() }), {
      LIVE_BATCH_TIMEOUT: '5.0',
    });
    expect(cfg.LIVE_BATCH_TIMEOUT).toBe(5000);
  });
});
