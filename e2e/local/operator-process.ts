// The operator as it ships: `node bin/market-pipeline-operator.js` from this checkout's
// build, a child process configured by environment variables like the chart's Deployment.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { freePort } from '../../test/support/private-nats.js';

export interface OperatorProcess {
  /** Why the operator is not running, when it stopped on its own. */
  failure(): string | undefined;
  stop(): Promise<void>;
}

export async function startOperatorProcess(options: {
  repoRoot: string;
  namespace: string;
  kubeconfig: string;
  logDir: string;
}): Promise<OperatorProcess> {
  const metricsPort = await freePort();
  const child = spawn(process.execPath, [path.join(options.repoRoot, 'bin/market-pipeline-operator.js')], {
    cwd: options.repoRoot,
    env: {
      PATH: process.env.PATH ?? '',
      KUBECONFIG: options.kubeconfig,
      WATCH_NAMESPACE: options.namespace,
      LEADER_ELECTION_NAMESPACE: options.namespace,
      POD_NAME: 'e2e-operator',
      METRICS_PORT: String(metricsPort),
      // A missing Secret is rechecked sooner than the default 30 s (none is missing here).
      SECRET_RECHECK_SECONDS: '5',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logFile = createWriteStream(path.join(options.logDir, 'operator.log'));
  const tail: string[] = [];
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.on('data', (chunk: Buffer) => {
      logFile.write(chunk);
      tail.push(...chunk.toString().split('\n').filter(Boolean));
      tail.splice(0, Math.max(0, tail.length - 40));
    });
  }
  let exit: string | undefined;
  let stopping = false;
  const exited = new Promise<void>((resolve) =>
    child.once('close', (code, signal) => {
      if (!stopping)
        exit = `the operator exited (code ${code}, signal ${signal}); last output:\n${tail.join('\n')}`;
      resolve();
    }),
  );

  // Ready once it leads and its informers have synced (its /readyz).
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exit) throw new Error(exit);
    const ok = await fetch(`http://127.0.0.1:${metricsPort}/readyz`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`the operator was not ready within 30 s:\n${tail.join('\n')}`);
    await new Promise((r) => setTimeout(r, 250));
  }

  return {
    failure: () => exit,
    async stop() {
      stopping = true;
      child.kill('SIGTERM');
      await exited;
      logFile.end();
    },
  };
}
