// `market-pipeline collector`: Polygon forex WebSocket → NATS JetStream ticks.<SYM>
// (and, with KAFKA_BROKERS, a JetStream → Kafka tick_archive consumer in the same process).
import { Collector } from '../collector/collector.js';
import { collectorConfigSchema, type CollectorConfig } from '../collector/config.js';
import { isForexOpen } from '../contracts/market-hours.js';
import { ConfigError, loadConfig } from '../runtime/config.js';
import { createLogger } from '../runtime/logger.js';
import { createRegistry, startOpsServer } from '../runtime/ops-server.js';
import { Shutdown } from '../runtime/shutdown.js';
import { SERVICE, type CompanionContext } from '../collector/collector.js';

/**
 * The Kafka archiver, loaded only when KAFKA_BROKERS is set: the Kafka client weighs
 * ~45 MB of RSS on its own (bench/memory.ts), more than the rest of the collector.
 */
async function startTickArchiver(context: CompanionContext) {
  const { startTickArchiver: start } = await import('../collector/tick-archiver.js');
  return start(context);
}

export async function run(_args: string[]): Promise<number> {
  let config: CollectorConfig;
  const bootLog = createLogger(SERVICE);
  try {
    config = loadConfig(collectorConfigSchema);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    bootLog.fatal({ problems: error.problems }, error.message);
    return 1;
  }
  const log = createLogger(SERVICE, config.LOG_LEVEL);
  const registry = createRegistry(SERVICE);
  const ops = await startOpsServer(registry, config.METRICS_PORT);
  const collector = new Collector({
    config,
    log,
    registry,
    isMarketOpen: isForexOpen,
    startCompanion: config.KAFKA_BROKERS ? startTickArchiver : undefined,
  });
  ops.addReadinessCheck({ name: 'collector', check: () => collector.notReady() });

  // Steps run last-registered first: the collector stops (and flushes) before the ops port closes.
  const shutdown = new Shutdown(log, config.COLLECTOR_SHUTDOWN_FLUSH_MS + 15_000);
  shutdown.add('ops server', () => ops.close());
  shutdown.add('collector', () => collector.stop());
  shutdown.installSignalHandlers();
  log.info({ symbols: config.SYMBOLS, url: config.POLYGON_WS_URL, port: ops.port }, 'collector starting');

  try {
    await collector.start();
  } catch (error) {
    log.fatal({ err: error }, 'collector could not start');
    await collector.stop();
    await shutdown.run();
    return 1;
  }
  const code = await collector.done;
  await shutdown.run();
  // Everything is closed; should a stray handle keep the event loop alive, still exit.
  setTimeout(() => process.exit(code), 2000).unref();
  return code;
}
