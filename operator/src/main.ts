// `market-pipeline-operator`: the controller for MarketPipeline resources.
// Configuration from the environment (config.ts); Kubernetes credentials from KUBECONFIG,
// ~/.kube/config or, inside a pod, its service account.
import { KubeConfig } from '@kubernetes/client-node';
import { ConfigError, loadConfig } from '../../workloads/src/runtime/config.js';
import { createLogger } from '../../workloads/src/runtime/logger.js';
import { Shutdown } from '../../workloads/src/runtime/shutdown.js';
import { operatorEnv } from './config.js';
import { startOperator } from './run.js';

export async function main(_argv: string[]): Promise<void> {
  let config;
  try {
    config = loadConfig(operatorEnv);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`market-pipeline-operator: ${error.message}`);
    process.exitCode = 1;
    return;
  }
  const log = createLogger('market-pipeline-operator', config.LOG_LEVEL);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  log.info({ server: kubeConfig.getCurrentCluster()?.server }, 'starting');

  const instance = await startOperator(config, kubeConfig, log);
  const shutdown = new Shutdown(log);
  // Stops reconciling, then releases the lease so a standby takes over at once.
  shutdown.add('operator', () => instance.stop());
  shutdown.installSignalHandlers();

  const outcome = await instance.done;
  if (outcome === 'lost') {
    // As controller-runtime does: another instance may already be reconciling, so exit
    // right away and let the Deployment restart this one as a standby.
    log.fatal('leader lease lost; exiting');
    process.exit(1);
  }
}
