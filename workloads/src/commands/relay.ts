// `market-pipeline relay`: the collector of a pipeline whose source is another pipeline
// (source.relay): the source's ticks and feed gaps → this pipeline's names and tenant (and,
// with KAFKA_BROKERS, the Kafka tick archive of this pipeline's ticks, as beside the collector).
import type { CollectorConfig } from '../collector/config.js';
import { relayConfigSchema, type RelayConfig } from '../relay/config.js';
import { SERVICE, startRelay } from '../relay/relay.js';
import { ConfigError, loadConfig } from '../runtime/config.js';
import { createLogger } from '../runtime/logger.js';
import { createRegistry, startOpsServer } from '../runtime/ops-server.js';
import { Shutdown } from '../runtime/shutdown.js';

export async function run(_args: string[]): Promise<number> {
  let config: RelayConfig;
  const bootLog = createLogger(SERVICE);
  try {
    config = loadConfig(relayConfigSchema);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    bootLog.fatal({ problems: error.problems }, error.message);
    return 1;
  }
  const log = createLogger(SERVICE, config.LOG_LEVEL);
  const registry = createRegistry(SERVICE);
  const ops = await startOpsServer(registry, config.METRICS_PORT);
  const shutdown = new Shutdown(log, 30_000);
  shutdown.add('ops server', () => ops.close());
  shutdown.installSignalHandlers();
  let relay;
  try {
    relay = await startRelay(config, log, registry);
  } catch (error) {
    log.fatal({ err: error }, 'relay could not start');
    await shutdown.run();
    return 1;
  }
  const started = relay;
  ops.addReadinessCheck({ name: 'relay', check: () => started.notReady() });
  shutdown.add('relay', () => started.stop());
  if (config.KAFKA_BROKERS) {
    const { startTickArchiver } = await import('../collector/tick-archiver.js');
    // The archiver reads the KAFKA_*, PIPELINE_ID, TENANT_ID and COLLECTOR_ARCHIVE_BATCH_SIZE
    // settings only; a relay has no Polygon settings.
    const archiver = await startTickArchiver({
      config: config as unknown as CollectorConfig,
      nats: started.nats,
      log,
      registry,
    });
    shutdown.add('tick archiver', () => archiver.stop());
  }
  await started.done.catch((error: unknown) => log.error({ err: error }, 'relay failed'));
  await shutdown.run();
  setTimeout(() => process.exit(0), 2000).unref();
  return 0;
}
