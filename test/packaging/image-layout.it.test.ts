// The final image's file tree, assembled as the Dockerfiles' COPY instructions lay it out
// (build output from dist/, the repository's files, node_modules), then run: the entry
// points start from there, migrate finds schemas/, and the built code imports production
// dependencies only (the image has no others). A stand-in for `docker run`, which no
// engine here can do; the path /app becomes a temporary folder.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { builtinModules } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureBuilt } from '../support/built-cli.js';
import { instructions, readDockerfile, workdir } from './dockerfile.js';

const root = process.cwd();
const packageJson = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
};

/** Lays out the final stage of `dockerfile` under `prefix` (image paths under /app only). */
function assemble(dockerfile: string, prefix: string): void {
  const parsed = readDockerfile(path.join(root, dockerfile));
  const final = parsed.stages.at(-1)!;
  const buildDir = workdir(parsed.stages.find((s) => s.name === 'build')!)!;
  let cwd = '/';
  for (const i of final.instructions) {
    if (i.keyword === 'WORKDIR') cwd = path.posix.resolve(cwd, i.args[0]!);
    if (i.keyword !== 'COPY') continue;
    const rawDest = i.args.at(-1)!;
    const dest = path.posix.resolve(cwd, rawDest);
    if (!dest.startsWith('/app')) continue; // e.g. /usr/local/bin: checked by dockerfiles.test.ts
    const target = path.join(prefix, dest);
    // A destination ending in / (or several sources) is a folder to copy into.
    const intoFolder = i.args.length > 2 || rawDest.endsWith('/') || rawDest === '.';
    mkdirSync(intoFolder ? target : path.dirname(target), { recursive: true });
    for (const source of i.args.slice(0, -1)) {
      const into = intoFolder ? path.join(target, path.basename(source)) : target;
      if (i.flags.from === 'deps') symlinkSync(path.join(root, 'node_modules'), into);
      else if (i.flags.from === 'build')
        cpSync(path.join(root, path.posix.relative(buildDir, source)), into, { recursive: true });
      else cpSync(path.join(root, source), into, { recursive: true });
    }
  }
  expect(instructions(final, 'COPY').length).toBeGreaterThan(3);
}

function node(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      args,
      { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 30_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? Number(error.code ?? 1) : 0, out: stdout + stderr });
      },
    );
  });
}

function jsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.js'))
    .map((e) => path.join(e.parentPath, e.name));
}

let prefix: string;

beforeAll(async () => {
  await ensureBuilt();
  prefix = mkdtempSync(path.join(os.tmpdir(), 'mp-image-'));
});

afterAll(() => {
  if (prefix) rmSync(prefix, { recursive: true, force: true });
});

describe('workload image layout', () => {
  let app: string;
  beforeAll(() => {
    assemble('images/workloads.Dockerfile', path.join(prefix, 'workloads'));
    app = path.join(prefix, 'workloads/app');
  });

  it('runs `market-pipeline help` from bin/', async () => {
    const result = await node([path.join(app, 'bin/market-pipeline.js'), 'help']);
    expect(result).toEqual({ code: 0, out: expect.stringContaining('Usage: market-pipeline <command>') });
  });

  it('lets migrate find /app/schemas from dist/', async () => {
    const module = pathToFileURL(path.join(app, 'dist/workloads/src/migrate/schema-files.js')).href;
    const result = await node([
      '--input-type=module',
      '-e',
      `console.log((await import('${module}')).findSchemasDir(undefined))`,
    ]);
    expect(result).toEqual({ code: 0, out: `${path.join(app, 'schemas')}\n` });
  });

  it('holds no operator code', () => {
    expect(readdirSync(path.join(app, 'dist'))).toEqual(['workloads']);
  });
});

describe('operator image layout', () => {
  let app: string;
  beforeAll(() => {
    assemble('images/operator.Dockerfile', path.join(prefix, 'operator'));
    app = path.join(prefix, 'operator/app');
  });

  it('starts the operator from bin/ and stops at a bad setting, naming it', async () => {
    // The whole module graph loads; the configuration is checked before any API call.
    const result = await node([path.join(app, 'bin/market-pipeline-operator.js')], { WORKERS: '0' });
    expect(result.code).toBe(1);
    expect(result.out).toContain('market-pipeline-operator: ');
    expect(result.out).toContain('WORKERS');
  });
});

describe('built code', () => {
  it('imports only Node built-ins and production dependencies (the images have no others)', () => {
    const allowed = new Set([...Object.keys(packageJson.dependencies), ...builtinModules]);
    const imported = new Set<string>();
    const built = ['dist/operator/src', 'dist/workloads/src'].flatMap((dir) => jsFiles(path.join(root, dir)));
    expect(built.length).toBeGreaterThan(50);
    for (const file of built) {
      if (file.endsWith('.test.js')) continue;
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(
        /(?:^|[\s;])(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm,
      )) {
        const specifier = m[1] ?? m[2]!;
        if (specifier.startsWith('.') || specifier.startsWith('node:')) continue;
        const name = specifier.startsWith('@')
          ? specifier.split('/').slice(0, 2).join('/')
          : specifier.split('/')[0]!;
        imported.add(name);
      }
    }
    expect(imported.size).toBeGreaterThan(5);
    expect([...imported].filter((name) => !allowed.has(name))).toEqual([]);
  });
});
