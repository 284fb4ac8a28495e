// A NATS connection that never gives up reconnecting (a market-data service must outlive
// a NATS restart) and reports its state to the logs and to readiness.
import {
  connect,
  credsAuthenticator,
  nkeyAuthenticator,
  type ConnectionOptions,
  type NatsConnection,
} from '@nats-io/transport-node';
import type { Logger } from '../runtime/logger.js';
import { ConfigError } from '../runtime/config.js';

export interface NatsHandle {
  nc: NatsConnection;
  /** Undefined while connected, else why not (for /readyz). */
  notReady(): string | undefined;
}

export interface NatsConnectOptions {
  /**
   * Services keep trying the first connection (default); a job fails at once instead, so
   * that an unreachable server ends the run with an error rather than a hang.
   */
  waitOnFirstConnect?: boolean;
  /** Reconnect attempts after a disconnect; -1 (default) is forever. */
  maxReconnectAttempts?: number;
  /** The pipeline's own credentials (natsAuth). */
  auth?: NatsAuth;
  /**
   * Prefix of the client's reply inboxes (PipelineNames.inboxPrefix), so that a NATS user
   * can be allowed to subscribe to its own replies only (`_INBOX_<id>.>`).
   */
  inboxPrefix?: string;
}

/** The NATS_* credential variables (contracts/env.ts natsEnv). */
export interface NatsCredentialVars {
  NATS_USER?: string | undefined;
  NATS_PASSWORD?: string | undefined;
  NATS_NKEY_SEED?: string | undefined;
  NATS_CREDS?: string | undefined;
}

export type NatsAuth = Pick<ConnectionOptions, 'user' | 'pass' | 'authenticator'>;

/**
 * The connection options of the configured credentials: user + password, an nkey seed, or
 * a .creds file's content; at most one kind. A half-configured pair is a config error.
 */
export function natsAuth(vars: NatsCredentialVars): NatsAuth {
  const kinds = [
    vars.NATS_USER !== undefined || vars.NATS_PASSWORD !== undefined ? 'NATS_USER/NATS_PASSWORD' : undefined,
    vars.NATS_NKEY_SEED !== undefined ? 'NATS_NKEY_SEED' : undefined,
    vars.NATS_CREDS !== undefined ? 'NATS_CREDS' : undefined,
  ].filter((k): k is string => k !== undefined);
  if (kinds.length > 1) {
    throw new ConfigError([`${kinds.join(', ')}: set one kind of NATS credentials, not ${kinds.length}`]);
  }
  if (vars.NATS_USER !== undefined || vars.NATS_PASSWORD !== undefined) {
    if (vars.NATS_USER === undefined)
      throw new ConfigError(['NATS_USER (unset): required with NATS_PASSWORD']);
    if (vars.NATS_PASSWORD === undefined) {
      throw new ConfigError(['NATS_PASSWORD (unset): required with NATS_USER']);
    }
    return { user: vars.NATS_USER, pass: vars.NATS_PASSWORD };
  }
  const encoder = new TextEncoder();
  if (vars.NATS_NKEY_SEED !== undefined) {
    if (!/^SU[A-Z2-7]+$/.test(vars.NATS_NKEY_SEED.trim())) {
      throw new ConfigError(['NATS_NKEY_SEED (set): not a user nkey seed (SU…)']);
    }
    return { authenticator: nkeyAuthenticator(encoder.encode(vars.NATS_NKEY_SEED.trim())) };
  }
  if (vars.NATS_CREDS !== undefined) {
    if (!/BEGIN NATS USER JWT[\s\S]*BEGIN USER NKEY SEED/.test(vars.NATS_CREDS)) {
      throw new ConfigError(['NATS_CREDS (set): not the content of a NATS .creds file (JWT and nkey seed)']);
    }
    return { authenticator: credsAuthenticator(encoder.encode(vars.NATS_CREDS)) };
  }
  return {};
}

export async function connectNats(
  url: string,
  name: string,
  log: Logger,
  options: NatsConnectOptions = {},
): Promise<NatsHandle> {
  const nc = await connect({
    servers: url.split(',').map((s) => s.trim()),
    name,
    maxReconnectAttempts: options.maxReconnectAttempts ?? -1,
    reconnectTimeWait: 1000,
    reconnectJitter: 500,
    timeout: 5000,
    // Keep publishing into the client's buffer while reconnecting; confirmations decide.
    waitOnFirstConnect: options.waitOnFirstConnect ?? true,
    ...(options.auth ?? {}),
    ...(options.inboxPrefix ? { inboxPrefix: options.inboxPrefix } : {}),
  });
  let connected = true;
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') {
        connected = false;
        log.warn({ server: status.server }, 'NATS disconnected');
      } else if (status.type === 'reconnect') {
        connected = true;
        log.info({ server: status.server }, 'NATS reconnected');
      } else if (status.type === 'error') {
        // Permission violations land here (the server refuses a subject this user may not
        // use); the call that caused it fails with the same error.
        log.error({ err: status.error }, 'NATS error');
      }
    }
  })();
  log.info({ url: redactUrl(url) }, 'connected to NATS');
  return { nc, notReady: () => (connected && !nc.isClosed() ? undefined : 'not connected to NATS') };
}

/** The URL without credentials, for logs and error messages. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

/**
 * connectNats with what the pipeline's configuration says about the bus: its credentials
 * (NATS_USER …) and its own reply-inbox prefix.
 */
export function connectPipelineNats(
  config: NatsCredentialVars & { NATS_URL: string },
  names: { inboxPrefix: string },
  service: string,
  log: Logger,
  options: Omit<NatsConnectOptions, 'auth' | 'inboxPrefix'> = {},
): Promise<NatsHandle> {
  return connectNats(config.NATS_URL, service, log, {
    ...options,
    auth: natsAuth(config),
    inboxPrefix: names.inboxPrefix,
  });
}
