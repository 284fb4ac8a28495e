// A temporary folder for a benchmark's files (replay, payloads), removed at cleanup.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Resources } from './fixtures.js';

export function tempDir(resources: Resources, prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  resources.add(`remove ${dir}`, async () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
