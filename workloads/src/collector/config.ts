// Everything the collector reads from the environment (names in contracts/env.ts).
import type { z } from 'zod';
import { collectorEnv, kafkaEnv, marketEnv, natsEnv, opsEnv } from '../contracts/env.js';

export const collectorConfigSchema = natsEnv
  .extend(kafkaEnv.shape)
  .extend(marketEnv.shape)
  .extend(opsEnv.shape)
  .extend(collectorEnv.shape);

export type CollectorConfig = z.infer<typeof collectorConfigSchema>;
