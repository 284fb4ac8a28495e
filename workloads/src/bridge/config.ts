// The bridge's configuration: the shared connection fragments plus batching, and one rule
// on the ack wait (the progress replies that keep a held message from redelivery go out
// every third of it).
import type { z } from 'zod';
import {
  bridgeEnv,
  cacheEnv,
  clickhouseEnv,
  clickhouseTicksEnv,
  natsEnv,
  opsEnv,
  retentionEnv,
  tenantEnv,
  timescaleEnv,
} from '../contracts/env.js';

export const MIN_ACK_WAIT_MS = 1_000;

export const bridgeConfigSchema = natsEnv
  .extend(timescaleEnv.shape)
  .extend(clickhouseEnv.shape)
  .extend(opsEnv.shape)
  .extend(tenantEnv.shape)
  .extend(bridgeEnv.shape)
  .extend(cacheEnv.shape)
  .extend(clickhouseTicksEnv.shape)
  .extend({ TIMESCALEDB_RETENTION_DAYS: retentionEnv.shape.TIMESCALEDB_RETENTION_DAYS })
  .superRefine((c, ctx) => {
    // Held messages get working() every third of the ack wait; below a second, an ordinary
    // pause of the event loop (a major GC, a large batch encoded) could outlast the margin
    // and a live replica's messages would be redelivered.
    if (c.BRIDGE_ACK_WAIT < MIN_ACK_WAIT_MS) {
      ctx.addIssue({
        code: 'custom',
        path: ['BRIDGE_ACK_WAIT'],
        message: `must be at least ${MIN_ACK_WAIT_MS / 1000} s`,
      });
    }
  });

export type BridgeConfig = z.infer<typeof bridgeConfigSchema>;
