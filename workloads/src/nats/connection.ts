// A NATS connection that never gives up reconnecting (a market-data service must outlive
// a NATS restart) and reports its state to the logs and to readiness.
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '../runtime/logger.js';

export interface NatsHandle {
  nc: NatsConnection;
  /** Undefined while connected, else why not (for /readyz). */
  notReady(): string | undefined;
}

export async function connectNats(url: string, name: string, log: Logger): Promise<NatsHandle> {
  const nc = await connect({
    servers: url.split(',').map((s) => s.trim()),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1000,
    reconnectJitter: 500,
    timeout: 5000,
    // Keep publishing into the client's buffer while reconnecting; confirmations decide.
    waitOnFirstConnect: true,
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

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
