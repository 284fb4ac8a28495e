// What the run-to-completion commands (aggregate, backfill) share: reading arguments and
// configuration with the same exit codes, stopping cleanly on a signal, and connecting to
// JetStream and the Kafka archive with errors that name the system and the step.
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { z } from 'zod';
import { EXIT_USAGE } from '../cli.js';
import type { kafkaEnv, natsEnv } from '../contracts/env.js';
import { pipelineNamesOf, type PipelineNames } from '../contracts/subjects.js';
import { UsageError } from '../runtime/command-args.js';
import type { BarArchive } from '../aggregator/bar-message.js';
import { connectPipelineNats, redactUrl, type NatsHandle } from '../nats/connection.js';
import { ensureStreams } from '../nats/streams.js';
import { ConfigError, loadConfig } from '../runtime/config.js';
import { asStep, reasonOf } from '../runtime/failure.js';
import type { Logger } from '../runtime/logger.js';
import { Shutdown } from '../runtime/shutdown.js';

export const EXIT_FAILED = 1;

export type Prepared<A, C> = { ok: true; args: A; config: C } | { ok: false; exitCode: number };

/** Parses the arguments and the environment; prints usage or the problem and gives the exit code. */
export function prepareJob<A extends { help: boolean }, S extends z.ZodObject>(
  command: string,
  usage: string,
  parseArgs: (args: string[]) => A,
  schema: S,
  argv: string[],
  env: NodeJS.ProcessEnv,
): Prepared<A, z.infer<S>> {
  try {
    const args = parseArgs(argv);
    if (args.help) {
      console.log(usage);
      return { ok: false, exitCode: 0 };
    }
    return { ok: true, args, config: loadConfig(schema, env) };
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`market-pipeline ${command}: ${error.message}\n\n${usage}`);
      return { ok: false, exitCode: EXIT_USAGE };
    }
    if (error instanceof ConfigError) {
      console.error(`market-pipeline ${command}: ${error.message}`);
      return { ok: false, exitCode: EXIT_USAGE };
    }
    throw error;
  }
}

/**
 * Runs a job with SIGTERM/SIGINT stopping it between steps (a node drained, the Job
 * deleted); whatever the outcome, the registered shutdown steps close its connections.
 * A failure is logged as `<what> failed: <reason>` and gives EXIT_FAILED.
 */
export async function runJob(
  what: string,
  log: Logger,
  work: (shutdown: Shutdown) => Promise<number>,
  onFailure: (line: string) => void = () => undefined,
): Promise<number> {
  const shutdown = new Shutdown(log);
  const onSignal = (signal: NodeJS.Signals) => {
    log.warn({ signal }, 'stopping the run');
    void shutdown.run();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    return await work(shutdown);
  } catch (error) {
    const reason = shutdown.shuttingDown
      ? `interrupted by a shutdown signal (${reasonOf(error)})`
      : reasonOf(error);
    const line = `${what} failed: ${reason}`;
    log.error({ err: error }, line);
    onFailure(line);
    return EXIT_FAILED;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await shutdown.run();
  }
}

export interface JobJetStream {
  nats: NatsHandle;
  /** The pipeline's subjects, streams and id scope (PIPELINE_ID, TENANT_ID). */
  names: PipelineNames;
  js: JetStreamClient;
  jsm: JetStreamManager;
  /** "NATS at <url>", for step names. */
  where: string;
}

/** Connects to NATS (failing fast when it is down: the CronJob retries) and ensures the streams. */
export async function connectJobJetStream(
  config: z.infer<typeof natsEnv> & { TENANT_ID: string },
  service: string,
  log: Logger,
  shutdown: Shutdown,
): Promise<JobJetStream> {
  const where = `NATS at ${redactUrl(config.NATS_URL)}`;
  const names = pipelineNamesOf(config);
  // Fail fast when NATS is down, but ride out a short disconnect while publishing.
  const nats = await asStep(where, () =>
    connectPipelineNats(config, names, service, log, { waitOnFirstConnect: false, maxReconnectAttempts: 10 }),
  );
  shutdown.add('NATS connection', () => nats.nc.close());
  const jsm = await asStep(`${where}: JetStream`, async () => {
    const manager = await jetstreamManager(nats.nc);
    await ensureStreams(
      manager,
      {
        maxAgeMs: config.NATS_STREAM_MAX_AGE_SECONDS * 1000,
        duplicateWindowMs: config.NATS_DUPLICATE_WINDOW_SECONDS * 1000,
      },
      names,
    );
    return manager;
  });
  return { nats, names, js: jetstream(nats.nc), jsm, where };
}

/** The Kafka bar archive when KAFKA_BROKERS is set (its topic created if missing), else undefined. */
export async function openBarArchive(
  config: z.infer<typeof kafkaEnv>,
  shutdown: Shutdown,
): Promise<BarArchive | undefined> {
  if (!config.KAFKA_BROKERS) return undefined;
  // Loaded only when archiving is on: the Kafka client takes ~0.5 s and ~45 MB to load.
  const { ArchiveProducer: Producer } = await import('../kafka/archive-producer.js');
  const producer = new Producer({ brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID });
  shutdown.add('Kafka producer', () => producer.close());
  const topic = config.KAFKA_AGGREGATE_TOPIC;
  await asStep(`Kafka at ${config.KAFKA_BROKERS.join(',')}: topic ${topic}`, () =>
    producer.ensureTopics([topic]),
  );
  return { producer, topic };
}
