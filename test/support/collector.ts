// Runs the collector in-process for integration tests (against the simulator and a private
// nats-server), with its logs captured and its metrics readable, and reads back what it
// stored in JetStream.
import { jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { Collector, type CollectorOptions } from '../../workloads/src/collector/collector.js';
import { collectorConfigSchema, type CollectorConfig } from '../../workloads/src/collector/config.js';
import { loadConfig } from '../../workloads/src/runtime/config.js';

/** A captured log line; `level` is pino's number (see LEVEL). */
export type LogLine = { level: number; msg: string; [field: string]: unknown };

export interface RunningCollector {
  collector: Collector;
  config: CollectorConfig;
  registry: Registry;
  logs: LogLine[];
}

/** Test defaults: short delays so that reconnects and retries happen within a test. */
const TEST_ENV: Record<string, string> = {
  COLLECTOR_RECONNECT_MIN_MS: '100',
  COLLECTOR_RECONNECT_MAX_MS: '1000',
  COLLECTOR_EVICTED_RECONNECT_MS: '500',
  COLLECTOR_PUBLISH_TIMEOUT_MS: '1000',
  COLLECTOR_SHUTDOWN_FLUSH_MS: '10000',
  COLLECTOR_AUTH_TIMEOUT_MS: '5000',
};

export async function startCollector(
  env: Record<string, string>,
  options: Partial<Omit<CollectorOptions, 'config' | 'log' | 'registry'>> = {},
): Promise<RunningCollector> {
  const config = loadConfig(collectorConfigSchema, { ...TEST_ENV, ...env });
  const logs: LogLine[] = [];
  const log = pino(
    { level: 'debug', base: { service: 'collector' } },
    { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) },
  );
  const registry = new Registry();
  const collector = new Collector({ config, log, registry, isMarketOpen: () => true, ...options });
  await collector.start();
  return { collector, config, registry, logs };
}

export async function waitUntil(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * The messages a stream holds now (optionally of one subject filter), in stream order;
 * messages stored after the call starts are not waited for.
 */
export async function readStream(nc: NatsConnection, stream: string, filter?: string): Promise<JsMsg[]> {
  const lastSeq = (await jetstreamManager(nc).then((jsm) => jsm.streams.info(stream))).state.last_seq;
  const consumer = await jetstream(nc).consumers.get(stream, filter ? { filter_subjects: [filter] } : {});
  const out: JsMsg[] = [];
  for (;;) {
    let fetched = 0;
    const batch = await consumer.fetch({ max_messages: 1000, expires: 1000 });
    for await (const m of batch) {
      fetched++;
      if (m.seq <= lastSeq) out.push(m);
      if (m.seq >= lastSeq) {
        batch.stop();
        return out;
      }
    }
    if (fetched === 0) return out;
  }
}

/** pino's numeric levels by name, for filtering captured logs. */
export const LEVEL = { debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const;
