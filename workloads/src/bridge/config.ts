// The bridge's configuration: the shared connection fragments plus batching, and one rule
// across variables (ack_wait must outlast a batch's wait).
import type { z } from 'zod';
import {
  bridgeEnv,
  clickhouseEnv,
  natsEnv,
  opsEnv,
  retentionEnv,
  tenantEnv,
  timescaleEnv,
} from '../contracts/env.js';

export const bridgeConfigSchema = natsEnv
  .extend(timescaleEnv.shape)
  .extend(clickhouseEnv.shape)
  .extend(opsEnv.shape)
  .extend(tenantEnv.shape)
  .extend(bridgeEnv.shape)
  .extend({ TIMESCALEDB_RETENTION_DAYS: retentionEnv.shape.TIMESCALEDB_RETENTION_DAYS })
  .superRefine((c, ctx) => {
    const longestWait = Math.max(c.LIVE_BATCH_TIMEOUT, c.HISTORICAL_BATCH_TIMEOUT);
    if (c.BRIDGE_ACK_WAIT < 2 * longestWait) {
      ctx.addIssue({
        code: 'custom',
        path: ['BRIDGE_ACK_WAIT'],
        message: `must be at least twice the longest batch timeout (${(2 * longestWait) / 1000} s)`,
      });
    }
  });

export type BridgeConfig = z.infer<typeof bridgeConfigSchema>;
