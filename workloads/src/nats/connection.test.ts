import { describe, expect, it } from '@jest/globals';
import type { ConfigError } from '../runtime/config.js';
import { natsAuth } from './connection.js';

describe('NATS credentials from the environment', () => {
  it('takes user and password, or none', () => {
    expect(natsAuth({})).toEqual({});
    expect(natsAuth({ NATS_USER: 'fx-a', NATS_PASSWORD: 'secret' })).toEqual({
      user: 'fx-a',
      pass: 'secret',
    });
  });

  it('refuses half a pair, two kinds at once, and values that are not what they claim, naming the variable', () => {
    const problems = (vars: Parameters<typeof natsAuth>[0]) => {
      try {
        natsAuth(vars);
      } catch (error) {
        return (error as ConfigError).problems;
      }
      return [];
    };
    expect(problems({ NATS_USER: 'fx-a' })).toEqual(['NATS_PASSWORD (unset): required with NATS_USER']);
    expect(problems({ NATS_PASSWORD: 'x' })).toEqual(['NATS_USER (unset): required with NATS_PASSWORD']);
    expect(problems({ NATS_USER: 'a', NATS_PASSWORD: 'b', NATS_CREDS: 'c' })[0]).toMatch(
      /NATS_USER\/NATS_PASSWORD, NATS_CREDS: set one kind/,
    );
    expect(problems({ NATS_NKEY_SEED: 'not-a-seed' })[0]).toMatch(
      /^NATS_NKEY_SEED \(set\): not a user nkey seed/,
    );
    expect(problems({ NATS_CREDS: 'hello' })[0]).toMatch(
      /^NATS_CREDS \(set\): not the content of a NATS \.creds file/,
    );
  });

  it('builds an authenticator from an nkey seed or a .creds file', () => {
    const seed = 'SUAGMJH5XLGZKQQWAWKRZJIGMOU4HPFUYLXJMXOO5NLFEO2OOQJ5LPRDPM';
    expect(typeof natsAuth({ NATS_NKEY_SEED: seed }).authenticator).toBe('function');
    const creds = [
      '-----BEGIN NATS USER JWT-----',
      'eyJhbGciOiJlZDI1NTE5In0.e30.sig',
      '------END NATS USER JWT------',
      '-----BEGIN USER NKEY SEED-----',
      seed,
      '------END USER NKEY SEED------',
    ].join('\n');
    expect(typeof natsAuth({ NATS_CREDS: creds }).authenticator).toBe('function');
  });
});
