// Runs the command-line tools the test environment builds (helm, kubectl: K8S_BIN_DIR on
// PATH, see load-test-env.ts; promtool: PROMTOOL, from scripts/test-env/build-promtool.sh).
// A missing tool fails naming it and how to get it.
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

export type Tool = 'helm' | 'kubectl' | 'promtool';

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function requireTool(tool: Tool): string {
  if (tool === 'promtool') {
    const file = process.env.PROMTOOL;
    try {
      if (file) {
        accessSync(file, constants.X_OK);
        return file;
      }
    } catch {
      // named but missing: fail below
    }
    throw new Error(
      `promtool is not available (PROMTOOL='${file ?? ''}'). Run \`make test-env\` (kube.sh builds it ` +
        'with scripts/test-env/build-promtool.sh and writes PROMTOOL to .test-env/env).',
    );
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, tool);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  throw new Error(
    `${tool} is not on PATH. Run \`make test-env\` (it builds helm and kubectl into K8S_BIN_DIR, ` +
      'which .test-env/env puts on PATH).',
  );
}

/** Runs the tool; resolves with its exit code and output whatever the code (callers assert). */
export function runTool(tool: Tool, args: string[], input?: string): Promise<ToolResult> {
  const file = requireTool(tool);
  return new Promise((resolve, reject) => {
    // env explicitly: jest gives each test file its own copy of process.env (where
    // load-test-env.ts put KUBECONFIG), which child_process would not see otherwise.
    const options = { maxBuffer: 64 * 1024 * 1024, env: process.env };
    const child = execFile(file, args, options, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      if (error && code === -1) reject(error);
      else resolve({ code, stdout, stderr });
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

/** Runs the tool and fails with its stderr unless it exits 0; returns stdout. */
export async function tool(toolName: Tool, args: string[], input?: string): Promise<string> {
  const result = await runTool(toolName, args, input);
  if (result.code !== 0) {
    throw new Error(
      `${toolName} ${args.join(' ')} exited ${result.code}:\n${result.stderr || result.stdout}`,
    );
  }
  return result.stdout;
}
