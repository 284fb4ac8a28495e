// Creates or updates the four JetStream streams of a pipeline. Every service that publishes or consumes
// calls this at start, so the order in which services start does not matter.
import { RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { SEED_NAMES, type PipelineNames } from '../contracts/subjects.js';
import { NS_PER_MS } from './durable-consumer.js';

export interface StreamSettings {
  /** How long messages are kept (ms); the bridge must catch up within it. */
  maxAgeMs: number;
  /** Window (ms) within which a re-published message id is dropped by the server. */
  duplicateWindowMs: number;
}

export const DEFAULT_STREAM_SETTINGS: StreamSettings = {
  maxAgeMs: 7 * 24 * 3600_000,
  duplicateWindowMs: 2 * 60_000,
};

type NamedStreamConfig = Partial<StreamConfig> & { name: string };

/** The four streams of one pipeline (PipelineNames.streams; the seed's when unnamed). */
export function streamConfigs(
  settings: StreamSettings,
  names: Pick<PipelineNames, 'streams'> = SEED_NAMES,
): NamedStreamConfig[] {
  return Object.values(names.streams).map((s) => ({
    name: s.name,
    subjects: [...s.subjects],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    max_age: settings.maxAgeMs * NS_PER_MS,
    duplicate_window: Math.min(settings.duplicateWindowMs, settings.maxAgeMs) * NS_PER_MS,
  }));
}

export async function ensureStreams(
  jsm: JetStreamManager,
  settings: StreamSettings,
  names: Pick<PipelineNames, 'streams'> = SEED_NAMES,
): Promise<void> {
  for (const config of streamConfigs(settings, names)) {
    const existing = await jsm.streams.info(config.name).catch(() => undefined);
    if (!existing) {
      await jsm.streams.add(config).catch(async (error: Error) => {
        // Another service created it between our info and add: fine if it exists now.
        if (!(await jsm.streams.info(config.name).catch(() => undefined))) throw error;
      });
    } else if (
      existing.config.max_age !== config.max_age ||
      existing.config.duplicate_window !== config.duplicate_window
    ) {
      await jsm.streams.update(config.name, { ...existing.config, ...config });
    }
  }
}
