// `market-pipeline simulate`: a Polygon.io-compatible forex feed (WebSocket /forex and
// REST /v2/aggs) for demos and tests. See workloads/src/simulator/README.md.
import { EXIT_USAGE } from '../cli.js';
import { ConfigError, loadConfig } from '../runtime/config.js';
import { createLogger } from '../runtime/logger.js';
import { createRegistry, startOpsServer } from '../runtime/ops-server.js';
import { Shutdown } from '../runtime/shutdown.js';
import {
  flagsToEnv,
  SIMULATE_USAGE,
  simulatorEnv,
  simulatorOptions,
  UsageError,
} from '../simulator/config.js';
import { createSimulatorMetrics } from '../simulator/metrics.js';
import { loadReplayFrames } from '../simulator/replay.js';
import { startSimulator } from '../simulator/simulator-server.js';

export async function run(args: string[]): Promise<number | void> {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(SIMULATE_USAGE);
    return 0;
  }
  let config;
  try {
    config = loadConfig(simulatorEnv, { ...process.env, ...flagsToEnv(args) });
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`market-pipeline simulate: ${error.message}\n\n${SIMULATE_USAGE}`);
      return EXIT_USAGE;
    }
    if (error instanceof ConfigError) {
      console.error(`market-pipeline simulate: ${error.message}`);
      return 1;
    }
    throw error;
  }

  const log = createLogger('simulator', config.LOG_LEVEL);
  const registry = createRegistry('simulator');
  const metrics = createSimulatorMetrics(registry);
  const ops = await startOpsServer(registry, config.METRICS_PORT);
  const frames = config.SIMULATOR_REPLAY_FILE
    ? await loadReplayFrames(config.SIMULATOR_REPLAY_FILE, log)
    : undefined;
  const simulator = await startSimulator(simulatorOptions(config, frames), log, metrics);

  const shutdown = new Shutdown(log);
  ops.addReadinessCheck({
    name: 'simulator',
    check: () => (shutdown.shuttingDown ? 'shutting down' : undefined),
  });
  // Steps run last-registered first: the feed closes before the ops port.
  shutdown.add('ops server', () => ops.close());
  shutdown.add('simulator', () => simulator.close());
  shutdown.installSignalHandlers();
  log.info(
    { webSocketUrl: simulator.webSocketUrl, restUrl: simulator.restUrl, metricsPort: ops.port },
    'simulator ready',
  );
  await new Promise<void>((resolve) =>
    shutdown.signal.addEventListener('abort', () => resolve(), { once: true }),
  );
  await shutdown.run();
}
