// Everything the relay reads from the environment (names in contracts/env.ts). No Polygon
// setting: the relay's quotes come from its source pipeline's stream. The Kafka tick archive
// (KAFKA_*, COLLECTOR_ARCHIVE_BATCH_SIZE) runs beside it as beside the collector.
import type { z } from 'zod';
import { collectorEnv, kafkaEnv, marketEnv, natsEnv, opsEnv, relayEnv } from '../contracts/env.js';

export const relayConfigSchema = natsEnv
  .extend(kafkaEnv.shape)
  .extend(marketEnv.shape)
  .extend(opsEnv.shape)
  .extend(collectorEnv.pick({ COLLECTOR_ARCHIVE_BATCH_SIZE: true }).shape)
  .extend(relayEnv.shape);

export type RelayConfig = z.infer<typeof relayConfigSchema>;
