// Replay mode: a file of JSON lines, each line one frame exactly as it is sent (normally a
// JSON array of events; status events, unknown event types, `x` as a string, duplicates,
// out-of-order quotes and even malformed lines all go out verbatim, which is the point:
// the collector's tests script what the feed does). Frames go, in file order and at a set
// pace, to the first client that has authenticated and subscribed; if it disconnects, the
// next subscribed client gets the rest. At the end the replay loops or stays idle.
import { readFile } from 'node:fs/promises';
import { WebSocket } from 'ws';
import type { Logger } from '../runtime/logger.js';
import type { SimulatorMetrics } from './metrics.js';
import type { ClientSession } from './ws-server.js';

export interface ReplayOptions {
  frames: readonly string[];
  /** Frames per second; 0 sends as fast as the client takes them. */
  framesPerSecond: number;
  loop: boolean;
  log: Logger;
  metrics: SimulatorMetrics;
}

export interface ReplayState {
  totalFrames: number;
  /** Frames sent in the current pass. */
  sentFrames: number;
  passesCompleted: number;
  finished: boolean;
  clientConnection: number | undefined;
}

/** Keeps at most this much unsent replay data queued on the client's socket. */
const MAX_QUEUED_BYTES = 1 << 20;

/** Reads a replay file: one frame per non-blank line. */
export async function loadReplayFrames(path: string, log: Logger): Promise<string[]> {
  const frames = (await readFile(path, 'utf8'))
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const notArrays = frames.filter((line) => {
    try {
      return !Array.isArray(JSON.parse(line));
    } catch {
      return true;
    }
  }).length;
  if (notArrays > 0)
    log.warn({ path, notArrays }, 'replay file has lines that are not JSON arrays; sending them as they are');
  return frames;
}

export class ReplayPlayer {
  private position = 0;
  private passes = 0;
  private target: ClientSession | undefined;
  private running = false;
  private stopped = false;

  constructor(private readonly options: ReplayOptions) {}

  get finished(): boolean {
    return !this.options.loop && this.position >= this.options.frames.length;
  }

  state(): ReplayState {
    return {
      totalFrames: this.options.frames.length,
      sentFrames: this.position,
      passesCompleted: this.passes,
      finished: this.finished,
      clientConnection: this.target?.id,
    };
  }

  /** A client subscribed: it becomes the target unless another one already is. */
  offer(session: ClientSession): void {
    if (this.stopped || this.finished || (this.target && !this.target.closing)) return;
    this.target = session;
    this.options.log.info({ connection: session.id, from: this.position }, 'replay: sending to client');
    if (!this.running) void this.run();
  }

  /** A client went away; replay pauses until the next one subscribes. */
  release(session: ClientSession): void {
    if (this.target === session) this.target = undefined;
  }

  stop(): void {
    this.stopped = true;
  }

  private async run(): Promise<void> {
    this.running = true;
    const { frames, framesPerSecond, loop, log, metrics } = this.options;
    const interval = framesPerSecond > 0 ? 1000 / framesPerSecond : 0;
    let due = performance.now();
    try {
      while (!this.stopped) {
        const target = this.target;
        if (!target || target.closing || target.socket.readyState !== WebSocket.OPEN) break;
        if (this.position >= frames.length) break;
        target.send(frames[this.position]!);
        this.position++;
        metrics.replayFramesSent.inc();
        if (this.position >= frames.length) {
          this.passes++;
          log.info({ frames: frames.length, passes: this.passes }, 'replay: pass complete');
          if (!loop) break;
          this.position = 0;
        }
        if (interval > 0) {
          due += interval;
          await delay(Math.max(0, due - performance.now()));
        } else if (target.socket.bufferedAmount > MAX_QUEUED_BYTES || this.position % 256 === 0) {
          await drained(target);
        }
      }
    } finally {
      this.running = false;
    }
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until the socket's queue is below the bound (or the socket is gone). */
async function drained(session: ClientSession): Promise<void> {
  do {
    await delay(session.socket.bufferedAmount > MAX_QUEUED_BYTES ? 5 : 0);
  } while (session.socket.bufferedAmount > MAX_QUEUED_BYTES && session.socket.readyState === WebSocket.OPEN);
}
