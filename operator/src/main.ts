// `market-pipeline-operator`: the controller for MarketPipeline resources.
export async function main(_argv: string[]): Promise<void> {
  console.error('market-pipeline-operator: the reconciler is not built yet (see the operator issue).');
  process.exitCode = 1;
}
