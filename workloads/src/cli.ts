// `market-pipeline <command>`: one entry point for every workload in the image.
// Each command module exports `run(args)`; it is imported lazily so that a command only
// loads the client libraries it needs.

export interface Command {
  summary: string;
  usage: string;
  load: () => Promise<{ run: (args: string[]) => Promise<number | void> }>;
}

export const commands: Record<string, Command> = {
  aggregate: {
    summary: 'Build OHLCV bars from the ticks in TimescaleDB and publish them (one run, then exit)',
    usage: 'aggregate --timeframe <5m|15m|30m|1h|4h|1d|1w> [--from <ISO> [--to <ISO>]] [--now <ISO>]',
    load: () => import('./commands/aggregate.js'),
  },
  migrate: {
    summary: 'Apply schemas/ to TimescaleDB and ClickHouse, reconcile retention, verify',
    usage: 'market-pipeline migrate',
    load: () => import('./commands/migrate.js'),
  },
  bridge: {
    summary: 'Write ticks (NATS) to TimescaleDB and bars to ClickHouse, exactly once',
    usage: 'market-pipeline bridge',
    load: () => import('./commands/bridge.js'),
  },
  dashboard: {
    summary: 'Live view of ticks stored per symbol and the latest bars (add --once to print once)',
    usage: 'market-pipeline dashboard [--once]',
    load: () => import('./commands/dashboard.js'),
  },
  collector: {
    summary: 'Polygon forex WebSocket quotes → NATS JetStream ticks (and the Kafka tick archive)',
    usage:
      'market-pipeline collector   (configured by POLYGON_*, SYMBOLS, NATS_*, KAFKA_*, COLLECTOR_* variables)',
    load: () => import('./commands/collector.js'),
  },
  relay: {
    summary: "Another pipeline's ticks and feed gaps → this pipeline's (one Polygon key, several pipelines)",
    usage:
      'market-pipeline relay   (configured by RELAY_SOURCE_PIPELINE_ID, RELAY_SOURCE_TENANT_ID, SYMBOLS, NATS_*, KAFKA_*)',
    load: () => import('./commands/relay.js'),
  },
  backfill: {
    summary:
      'Repair recorded feed gaps and fill the gaps in ClickHouse from Polygon REST (one run, then exit)',
    usage: 'market-pipeline backfill [--from <ISO> [--to <ISO>]]',
    load: () => import('./commands/backfill.js'),
  },
  simulate: {
    summary: 'Polygon.io-compatible forex feed (WebSocket /forex + REST /v2/aggs) for demos and tests',
    usage: 'market-pipeline simulate [--port N] [--rate N] [--replay FILE] [--help]',
    load: () => import('./commands/simulate.js'),
  },
};

export const EXIT_USAGE = 2;

export function usage(): string {
  const names = Object.keys(commands);
  const width = Math.max(10, ...names.map((n) => n.length));
  const lines = names.map((n) => `  ${n.padEnd(width)}  ${commands[n]!.summary}`);
  return [
    'Usage: market-pipeline <command> [options]',
    '',
    'Commands:',
    ...(lines.length ? lines : ['  (none yet)']),
    `  ${'help'.padEnd(width)}  Show this help`,
    '',
    'Configuration is read from environment variables; see README.md.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    console.log(usage());
    process.exitCode = name === undefined ? EXIT_USAGE : 0;
    return;
  }
  const command = commands[name];
  if (!command) {
    console.error(`market-pipeline: unknown command '${name}'\n\n${usage()}`);
    process.exitCode = EXIT_USAGE;
    return;
  }
  const module = await command.load();
  const code = await module.run(rest);
  if (typeof code === 'number') process.exitCode = code;
}
