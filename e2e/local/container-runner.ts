// One container of a pod, run as a local process: its command and args (the image's entry
// point `market-pipeline` mapped to this checkout's bin/market-pipeline.js), its resolved
// environment and nothing inherited from the test process but PATH; probes; the pod's
// restart policy with the kubelet's crash-loop back-off; SIGTERM, then SIGKILL after the
// grace period, when its pod goes away. Its state is reported in the shape of a
// ContainerStatus, and anything that would show as a failed container on a cluster is
// reported as a WorkloadFailure with the process's output.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import type { V1Container } from '@kubernetes/client-node';
import type { Logger } from '../../workloads/src/runtime/logger.js';
import { ContainerConfigError, expandVariables } from './container-env.js';
import type { PodPorts } from './local-network.js';
import { Prober } from './probe.js';
import { rfc3339 } from '../../operator/src/kube/time.js';

/** The image's entry points and the files of this checkout that stand in for them. */
export const IMAGE_ENTRY_POINTS: Record<string, string> = {
  'market-pipeline': 'bin/market-pipeline.js',
};

/** The workload image's Dockerfile: its final stage's ENV is the containers' base environment. */
export const WORKLOAD_DOCKERFILE = 'images/workloads.Dockerfile';

/**
 * `ENV` of the Dockerfile's final stage (both `ENV K=V …` and `ENV K V`): a container starts
 * with the image's environment, and the pod's variables override it.
 */
export function imageEnvironment(dockerfile: string): Record<string, string> {
  const finalStage = dockerfile.split(/^FROM\s/m).pop() ?? '';
  const env: Record<string, string> = {};
  for (const [, rest] of finalStage.matchAll(/^ENV\s+(.+)$/gm)) {
    const pairs = rest!.trim().match(/[^\s=]+=(?:"[^"]*"|\S*)/g);
    if (pairs) {
      for (const pair of pairs) {
        const [key, ...value] = pair.split('=');
        env[key!] = value.join('=').replace(/^"(.*)"$/, '$1');
      }
    } else {
      const [key, ...value] = rest!.trim().split(/\s+/);
      env[key!] = value.join(' ');
    }
  }
  return env;
}

const OUTPUT_LINES_KEPT = 200;
const CRASH_BACKOFF_INITIAL_MS = 10_000;
const CRASH_BACKOFF_MAX_MS = 300_000;
const CONFIG_RETRY_MS = 2_000;

export interface WorkloadFailure {
  pod: string;
  container: string;
  message: string;
  output: string;
}

// Container state and status as the API server's JSON has them (client-node's types say
// Date where the wire says an RFC 3339 string).
export interface ContainerState {
  waiting?: { reason: string; message?: string };
  running?: { startedAt: string };
  terminated?: {
    exitCode: number;
    signal?: number;
    reason: string;
    startedAt?: string;
    finishedAt: string;
  };
}

export interface ContainerStatus {
  name: string;
  image: string;
  imageID: string;
  ready: boolean;
  started: boolean;
  restartCount: number;
  state: ContainerState;
  lastState?: ContainerState;
}

export class ContainerCreateError extends Error {
  readonly reason = 'CreateContainerError';
}

export interface ContainerRunnerOptions {
  podName: string;
  container: V1Container;
  restartPolicy: string;
  /** Resolves the environment for each start (a ConfigMap or Secret may change between restarts). */
  environment: () => Promise<Record<string, string>>;
  ports: PodPorts;
  repoRoot: string;
  logDir: string;
  log: Logger;
  onChange: () => void;
  onFailure: (failure: WorkloadFailure) => void;
}

/** The process's command line: the entry point mapped to this checkout, `$(VAR)` expanded. */
export function processCommand(
  container: V1Container,
  env: Record<string, string>,
  repoRoot: string,
): { file: string; args: string[] } {
  const [entry, ...rest] = [...(container.command ?? []), ...(container.args ?? [])].map((a) =>
    expandVariables(a, env),
  );
  const script = entry === undefined ? undefined : IMAGE_ENTRY_POINTS[entry];
  if (!container.command?.length || !script) {
    throw new ContainerCreateError(
      `command ${JSON.stringify(container.command ?? [])}: the process kubelet runs only the image's ` +
        `entry points ${Object.keys(IMAGE_ENTRY_POINTS).join(', ')}`,
    );
  }
  return { file: process.execPath, args: [path.join(repoRoot, script), ...rest] };
}

const now = () => rfc3339(Date.now());

export class ContainerRunner {
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  private logFile: WriteStream | undefined;
  private output: string[] = [];
  private previousOutput: string[] = [];
  private state: ContainerState = { waiting: { reason: 'ContainerCreating' } };
  private lastState: ContainerState = {};
  private restartCount = 0;
  private ready = false;
  private started = false;
  private probers: Prober[] = [];
  private retryTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private reportedConfigError: string | undefined;

  constructor(private readonly options: ContainerRunnerOptions) {}

  get name(): string {
    return this.options.container.name;
  }

  /** True once the container has ended for good (restart policy says no more runs). */
  get finished(): boolean {
    return this.state.terminated !== undefined;
  }

  get exitCode(): number | undefined {
    return this.state.terminated?.exitCode;
  }

  status(): ContainerStatus {
    const { container } = this.options;
    return {
      name: container.name,
      image: container.image!,
      imageID: '',
      ready: this.ready,
      started: this.started,
      restartCount: this.restartCount,
      state: this.state,
      ...(Object.keys(this.lastState).length ? { lastState: this.lastState } : {}),
    };
  }

  /** The last lines the process wrote (previous: those of the run before the last restart). */
  outputTail(previous = false): string {
    return (previous ? this.previousOutput : this.output).join('\n');
  }

  start(): void {
    void this.run();
  }

  private async run(): Promise<void> {
    if (this.stopping) return;
    const { container, podName, log } = this.options;
    let command: { file: string; args: string[] };
    let env: Record<string, string>;
    try {
      env = await this.options.environment();
      command = processCommand(container, env, this.options.repoRoot);
    } catch (error) {
      // As the kubelet: the container stays waiting with the reason, and is tried again.
      if (error instanceof ContainerConfigError || error instanceof ContainerCreateError) {
        this.state = { waiting: { reason: error.reason, message: error.message } };
        if (this.reportedConfigError !== error.message) {
          this.reportedConfigError = error.message;
          this.fail(`${error.reason}: ${error.message}`);
        }
      } else {
        // The API server did not answer (a transient error, not the pod's fault).
        log.warn({ err: error, pod: podName, container: container.name }, 'cannot prepare the container yet');
        this.state = { waiting: { reason: 'ContainerCreating', message: String(error) } };
      }
      this.options.onChange();
      this.retryTimer = setTimeout(() => void this.run(), CONFIG_RETRY_MS);
      return;
    }
    if (this.stopping) return;

    this.output = [];
    this.logFile ??= createWriteStream(path.join(this.options.logDir, `${podName}_${container.name}.log`), {
      flags: 'a',
    });
    const child = spawn(command.file, command.args, {
      cwd: this.options.repoRoot,
      // Nothing from the test process leaks in (its env holds every test server's settings):
      // the image's ENV, PATH, the pod's HOSTNAME and what the pod spec says.
      env: { ...this.imageEnv(), PATH: process.env.PATH ?? '', HOSTNAME: podName, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const startedAt = now();
    log.info(
      { pod: podName, container: container.name, pid: child.pid, args: command.args.slice(1) },
      'started',
    );
    for (const stream of [child.stdout!, child.stderr!]) {
      let partial = '';
      stream.on('data', (chunk: Buffer) => {
        this.logFile!.write(chunk);
        partial += chunk.toString();
        const lines = partial.split('\n');
        partial = lines.pop()!;
        this.output.push(...lines);
        if (this.output.length > OUTPUT_LINES_KEPT)
          this.output.splice(0, this.output.length - OUTPUT_LINES_KEPT);
      });
    }
    this.exited = new Promise((resolve) => {
      child.once('close', (code, signal) => {
        this.onExit(code, signal, startedAt);
        resolve();
      });
    });
    child.once('error', (error) => this.fail(`cannot start ${command.file}: ${error.message}`));

    this.state = { running: { startedAt } };
    this.started = true;
    this.ready = !container.readinessProbe;
    this.startProbes();
    this.options.onChange();
  }

  private imageEnv(): Record<string, string> {
    return imageEnvironment(readFileSync(path.join(this.options.repoRoot, WORKLOAD_DOCKERFILE), 'utf8'));
  }

  private startProbes(): void {
    const { container, ports } = this.options;
    if (container.readinessProbe) {
      this.probers.push(
        new Prober(container.readinessProbe, ports, false, (ok) => {
          this.ready = ok;
          this.options.onChange();
        }),
      );
    }
    if (container.livenessProbe) {
      this.probers.push(
        new Prober(container.livenessProbe, ports, true, (ok, detail) => {
          if (ok || this.stopping) return;
          // The kubelet kills a container that fails its liveness probe, then restarts it.
          this.fail(`Liveness probe failed: ${detail}`);
          void this.terminateProcess(this.options.container.name, 30);
        }),
      );
    }
    for (const p of this.probers) p.start();
  }

  private stopProbes(): void {
    for (const p of this.probers) p.stop();
    this.probers = [];
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null, startedAt: string): void {
    this.stopProbes();
    this.child = undefined;
    this.ready = false;
    const exitCode = code ?? 128 + (signal === 'SIGKILL' ? 9 : 15);
    const terminated: ContainerState = {
      terminated: {
        exitCode,
        ...(signal ? { signal: signal === 'SIGKILL' ? 9 : 15 } : {}),
        reason: exitCode === 0 ? 'Completed' : 'Error',
        startedAt,
        finishedAt: now(),
      },
    };
    const { restartPolicy, podName, container, log } = this.options;
    log.info({ pod: podName, container: container.name, exitCode, signal }, 'exited');

    if (this.stopping) {
      if (exitCode !== 0) this.fail(`exited with code ${exitCode} on SIGTERM (graceful shutdown failed)`);
      this.state = terminated;
      this.options.onChange();
      return;
    }
    const restart = restartPolicy === 'Always' || (restartPolicy === 'OnFailure' && exitCode !== 0);
    if (exitCode !== 0 || restart) {
      this.fail(
        exitCode !== 0
          ? `exited with code ${exitCode}`
          : 'exited with code 0 although its restart policy keeps it running',
      );
    }
    if (!restart) {
      this.state = terminated;
      this.options.onChange();
      return;
    }
    this.lastState = terminated;
    this.previousOutput = this.output;
    const delay = Math.min(CRASH_BACKOFF_INITIAL_MS * 2 ** this.restartCount, CRASH_BACKOFF_MAX_MS);
    this.restartCount++;
    this.state = { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${delay / 1000}s restarting` } };
    this.options.onChange();
    this.retryTimer = setTimeout(() => void this.run(), delay);
  }

  private fail(message: string): void {
    this.options.onFailure({
      pod: this.options.podName,
      container: this.options.container.name,
      message,
      output: this.output.slice(-60).join('\n'),
    });
  }

  /** Stops for good: SIGTERM, SIGKILL after `graceSeconds`. */
  async stop(graceSeconds: number): Promise<void> {
    this.stopping = true;
    clearTimeout(this.retryTimer);
    this.stopProbes();
    await this.terminateProcess(this.options.container.name, graceSeconds);
    if (!this.state.terminated) {
      // Never started (config error) or between restarts: it ends as it is.
      this.state = { terminated: { exitCode: 0, reason: 'Completed', finishedAt: now() } };
    }
    await new Promise<void>((resolve) => (this.logFile ? this.logFile.end(resolve) : resolve()));
    this.logFile = undefined;
  }

  private async terminateProcess(name: string, graceSeconds: number): Promise<void> {
    const child = this.child;
    const exited = this.exited;
    if (!child || !exited) return;
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), graceSeconds * 1000);
    });
    if ((await Promise.race([exited, killed])) === 'timeout') {
      this.fail(`container ${name} did not stop within its ${graceSeconds} s grace period; killed`);
      child.kill('SIGKILL');
      await exited;
    }
    clearTimeout(timer);
  }
}
