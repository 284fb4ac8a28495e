// A NATS connection that never gives up reconnecting (a market-data service must outlive
// a NATS restart) and reports its state to the logs and to readiness.
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '../runtime/logger.js';

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
