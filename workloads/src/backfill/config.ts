// Everything the backfill reads from the environment (names in contracts/env.ts).
import type { z } from 'zod';
import { backfillEnv, clickhouseEnv, kafkaEnv, marketEnv, natsEnv, opsEnv } from '../contracts/env.js';

export const backfillConfigSchema = natsEnv
  .extend(kafkaEnv.shape)
  .extend(clickhouseEnv.shape)
  .extend(marketEnv.shape)
  .extend(backfillEnv.shape)
  .extend({ LOG_LEVEL: opsEnv.shape.LOG_LEVEL });

export type BackfillConfig = z.infer<typeof backfillConfigSchema>;
