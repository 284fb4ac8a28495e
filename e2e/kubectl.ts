// kubectl as the scenario's hands: both runners drive the cluster through the same CLI a
// user would type, so the steps read like the README's instructions.
import { execFile } from 'node:child_process';

export interface KubectlOptions {
  /** Written to kubectl's stdin (e.g. a manifest for `apply -f -`). */
  input?: string;
  timeoutMs?: number;
  /** Aborting kills kubectl (a wait that lost its purpose). */
  signal?: AbortSignal;
}

export interface Kubectl {
  /** Runs `kubectl --namespace <ns> <args>`; rejects with kubectl's stderr on a non-zero exit. */
  run(args: string[], options?: KubectlOptions): Promise<string>;
  /** Runs with `-o json` and parses the output. */
  json<T>(args: string[]): Promise<T>;
  readonly namespace: string;
}

export function kubectl(namespace: string, env: NodeJS.ProcessEnv = process.env): Kubectl {
  const run = (args: string[], options: KubectlOptions = {}) =>
    new Promise<string>((resolve, reject) => {
      const full = ['--namespace', namespace, ...args];
      const child = execFile(
        'kubectl',
        full,
        { env, timeout: options.timeoutMs ?? 600_000, maxBuffer: 64 * 1024 * 1024, signal: options.signal },
        (error, stdout, stderr) => {
          if (error) {
            const why = stderr.trim() || error.message;
            reject(new Error(`kubectl ${full.join(' ')} failed: ${why}`));
          } else resolve(stdout);
        },
      );
      if (options.input !== undefined) child.stdin!.end(options.input);
    });
  return {
    namespace,
    run,
    async json<T>(args: string[]): Promise<T> {
      return JSON.parse(await run([...args, '-o', 'json'])) as T;
    },
  };
}
