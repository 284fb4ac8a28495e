import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '../runtime/config.js';
import { DEMO_API_KEY, flagsToEnv, simulatorEnv, simulatorOptions, UsageError } from './config.js';

describe('simulate configuration', () => {
  it('has defaults for a demo and starts REST live data at 00:00 UTC of the start day', () => {
    const config = loadConfig(simulatorEnv, {});
    const options = simulatorOptions(config, undefined, Date.parse('2024-05-06T13:45:00Z'));
    expect(options).toMatchObject({
      port: 8765,
      apiKey: DEMO_API_KEY,
      symbols: ['EUR/USD', 'GBP/USD', 'USD/JPY', 'XAU/USD'],
      quotesPerSecond: 4,
      historyQuotesPerMinute: 4,
      liveFromMs: Date.parse('2024-05-06T00:00:00Z'),
      respectMarketHours: false,
      restRequestsPerMinute: undefined,
      authTimeoutMs: 10_000,
      adminEnabled: true,
      replay: undefined,
    });
  });

  it('maps flags onto the variables, flags winning over the environment', () => {
    const flags = flagsToEnv([
      '--port',
      '9000',
      '--rate=250',
      '--replay',
      'x.jsonl',
      '--replay-loop',
      '--respect-market-hours',
    ]);
    expect(flags).toEqual({
      SIMULATOR_PORT: '9000',
      SIMULATOR_QUOTES_PER_SECOND: '250',
      SIMULATOR_REPLAY_FILE: 'x.jsonl',
      SIMULATOR_REPLAY_LOOP: 'true',
      SIMULATOR_RESPECT_MARKET_HOURS: 'true',
    });
    const config = loadConfig(simulatorEnv, { SIMULATOR_PORT: '1234', SIMULATOR_SEED: '7', ...flags });
    expect(simulatorOptions(config, ['[]'])).toMatchObject({
      port: 9000,
      seed: 7,
      quotesPerSecond: 250,
      respectMarketHours: true,
      replay: { frames: ['[]'], framesPerSecond: 10, loop: true },
    });
    expect(() => flagsToEnv(['--bogus'])).toThrow(UsageError);
    expect(() => flagsToEnv(['--port'])).toThrow("option '--port' needs a value");
  });

  it('names a bad variable', () => {
    const load = () =>
      loadConfig(simulatorEnv, { SIMULATOR_QUOTES_PER_SECOND: '-1', SIMULATOR_LIVE_FROM: 'yesterday' });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow("SIMULATOR_QUOTES_PER_SECOND ('-1')");
    expect(load).toThrow("SIMULATOR_LIVE_FROM ('yesterday'): must be Unix ms or an ISO-8601 time");
  });
});
