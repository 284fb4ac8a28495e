// Runs the built CLI (`node bin/market-pipeline.js <command>`) as a child process, as the
// image does. The build in dist/ (workloads and operator) is brought up to date first when a
// source is newer (one build at a time across parallel test files, through a lock directory).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import path from 'node:path';

const root = process.cwd();
const builtCli = path.join(root, 'dist/workloads/src/cli.js');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(full));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts'))
      newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return newest;
}

/** Newest source of the build (tsconfig.build.json compiles both). */
function newestBuildSource(): number {
  return Math.max(
    newestSource(path.join(root, 'workloads/src')),
    newestSource(path.join(root, 'operator/src')),
  );
}

function builtAt(): number {
  try {
    return statSync(builtCli).mtimeMs;
  } catch {
    return 0;
  }
}

export async function ensureBuilt(): Promise<void> {
  const lock = path.join(root, 'dist.build-lock');
  for (;;) {
    if (builtAt() >= newestBuildSource()) return;
    try {
      mkdirSync(lock);
    } catch {
      await new Promise((r) => setTimeout(r, 500)); // another test file is building
      continue;
    }
    try {
      if (builtAt() < newestBuildSource()) {
        execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
        // tsc leaves an unchanged output file's mtime alone: mark the build as current.
        const now = new Date();
        execFileSync('touch', ['-d', now.toISOString(), builtCli]);
      }
    } finally {
      rmdirSync(lock);
    }
  }
}

export interface CliProcess {
  child: ChildProcess;
  /** Every stdout line so far (JSON log lines). */
  lines: string[];
  exited: Promise<number | null>;
  /** Resolves with the first log line matching `pattern`. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

export function startCli(args: string[], env: Record<string, string>): CliProcess {
  const child = spawn(process.execPath, [path.join(root, 'bin/market-pipeline.js'), ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  let partial = '';
  const onData = (chunk: Buffer) => {
    partial += chunk.toString();
    const parts = partial.split('\n');
    partial = parts.pop()!;
    for (const line of parts) {
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.pattern.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return {
    child,
    lines,
    exited,
    waitForLine(pattern, timeoutMs = 30_000) {
      const seen = lines.find((l) => pattern.test(l));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(`no log line matching ${pattern} within ${timeoutMs} ms; got:\n${lines.join('\n')}`),
            ),
          timeoutMs,
        );
        waiters.push({ pattern, resolve: (l) => (clearTimeout(timer), resolve(l)) });
      });
    },
  };
}

/** Runs a command to completion; returns its exit code and output lines. */
export async function runCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; lines: string[] }> {
  const p = startCli(args, env);
  const code = await p.exited;
  await new Promise((r) => setImmediate(r));
  return { code, lines: p.lines };
}
