// The product's feed side as processes: the simulator (Polygon's protocol, live or
// replaying a file) and the collector reading it, for the collector, latency and memory
// benchmarks.
import { freePort, waitForPort } from '../../test/support/private-nats.js';
import { DEMO_API_KEY } from '../../workloads/src/simulator/config.js';
import { startWorkload, type Workload } from './processes.js';

export interface SimulatorProcess extends Workload {
  wsUrl: string;
}

export type SimulatorSource =
  | { replayFile: string }
  | { quotesPerSymbolPerSecond: number; symbols: readonly string[]; batchIntervalMs: number };

export async function startSimulatorProcess(source: SimulatorSource): Promise<SimulatorProcess> {
  const port = await freePort();
  const env: Record<string, string> = {
    SIMULATOR_PORT: String(port),
    SIMULATOR_HOST: '127.0.0.1',
    SIMULATOR_ADMIN: 'false',
  };
  if ('replayFile' in source) {
    Object.assign(env, { SIMULATOR_REPLAY_FILE: source.replayFile, SIMULATOR_REPLAY_FRAMES_PER_SECOND: '0' });
  } else {
    Object.assign(env, {
      SYMBOLS: source.symbols.join(','),
      SIMULATOR_QUOTES_PER_SECOND: String(source.quotesPerSymbolPerSecond),
      SIMULATOR_BATCH_INTERVAL_MS: String(source.batchIntervalMs),
    });
  }
  const simulator = await startWorkload(['simulate'], { name: 'simulator', env });
  // /readyz answers before the WebSocket server listens: wait for its port.
  await waitForPort(port, 30_000, 'the simulator');
  return { ...simulator, wsUrl: `ws://127.0.0.1:${port}/forex` };
}

export interface CollectorSettings {
  natsUrl: string;
  wsUrl: string;
  symbols: readonly string[];
  env?: Record<string, string>;
  profileDir?: string;
}

export function startCollectorProcess(s: CollectorSettings): Promise<Workload> {
  return startWorkload(['collector'], {
    name: 'collector',
    profileDir: s.profileDir,
    env: {
      NATS_URL: s.natsUrl,
      POLYGON_WS_URL: s.wsUrl,
      POLYGON_API_KEY: DEMO_API_KEY,
      SYMBOLS: s.symbols.join(','),
      ...s.env,
    },
  });
}

export interface LivePipeline {
  collector: Workload;
  bridge: Workload;
  stop(): Promise<void>;
}

/**
 * The product's live path as it runs in production, one process each: collector
 * (simulator → NATS) and bridge (NATS → PostgreSQL), both with their defaults; resolves
 * once both are ready (the collector subscribed to the feed).
 */
export async function startLivePipeline(
  natsUrl: string,
  dbEnv: Record<string, string>,
  simulator: SimulatorProcess,
  symbols: readonly string[],
  profileDir?: string,
): Promise<LivePipeline> {
  const bridge = await startWorkload(['bridge'], {
    name: 'bridge',
    profileDir,
    env: { ...dbEnv, NATS_URL: natsUrl },
  });
  let collector: Workload | undefined;
  try {
    await bridge.waitReady();
    collector = await startCollectorProcess({ natsUrl, wsUrl: simulator.wsUrl, symbols, profileDir });
    await collector.waitReady();
  } catch (error) {
    await collector?.stop();
    await bridge.stop();
    throw error;
  }
  const c = collector;
  return {
    collector: c,
    bridge,
    async stop() {
      await c.stop();
      await bridge.stop();
    },
  };
}
