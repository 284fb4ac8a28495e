// `market-pipeline bridge`: JetStream → TimescaleDB (ticks) and ClickHouse (bars), until SIGTERM.
import { startBridge } from '../bridge/bridge.js';
import { bridgeConfigSchema } from '../bridge/config.js';
import { ConfigError, loadConfig } from '../runtime/config.js';
import { createLogger } from '../runtime/logger.js';
import { createRegistry, startOpsServer } from '../runtime/ops-server.js';
import { Shutdown } from '../runtime/shutdown.js';

export async function run(args: string[]): Promise<number> {
  const log = createLogger('bridge');
  if (args.length > 0) {
    log.error({ args }, 'bridge takes no arguments; it is configured by environment variables');
    return 2;
  }
  let config;
  try {
    config = loadConfig(bridgeConfigSchema);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    log.error(error.message);
    return 1;
  }
  log.level = config.LOG_LEVEL;
  const shutdown = new Shutdown(log);
  shutdown.installSignalHandlers();
  const ops = await startOpsServer(createRegistry('bridge'), config.METRICS_PORT);
  shutdown.add('close the ops server', () => ops.close());
  const bridge = await startBridge(config, log, ops.registry);
  for (const check of bridge.readiness) ops.addReadinessCheck(check);
  shutdown.add('stop the bridge', () => bridge.stop());
  log.info({ metricsPort: ops.port }, 'bridge running');
  try {
    await bridge.done;
  } catch (error) {
    // A bug, not an outage (outages are retried): stop cleanly and let Kubernetes restart us.
    log.fatal({ err: error }, 'bridge worker failed');
    process.exitCode = 1;
    await shutdown.run();
    return 1;
  }
  // done settles only after stop(): the signal handler finishes the shutdown and exits.
  return new Promise<number>(() => undefined);
}
