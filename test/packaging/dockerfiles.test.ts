// The two Dockerfiles, checked without a Docker engine: everything they COPY exists in the
// repository (and passes .dockerignore) or is produced by `npm run build`; the entry points
// are what the build produces and what the operator renders; the user is numeric and non-root.
import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { operatorEnv } from '../../operator/src/config.js';
import { desiredState } from '../../operator/src/render/desired.js';
import { DEFAULT_RENDER_OPTIONS } from '../../operator/src/render/pod.js';
import { makePipeline, polygonSource } from '../../operator/test/support/pipelines.js';
import { commands } from '../../workloads/src/cli.js';
import { readDockerignore } from './dockerignore.js';
import { instructions, readDockerfile, workdir, type Dockerfile, type Stage } from './dockerfile.js';
import { WORKLOAD_NODE_OPTIONS } from '../../workloads/src/runtime/node-options.js';

const root = process.cwd();
const packageJson = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  license: string;
  engines: { node: string };
  bin: Record<string, string>;
};
const tsconfig = JSON.parse(readFileSync(path.join(root, 'tsconfig.json'), 'utf8')) as {
  compilerOptions: { outDir: string; rootDir: string };
};
const buildConfig = JSON.parse(readFileSync(path.join(root, 'tsconfig.build.json'), 'utf8')) as {
  include: string[];
};
const sentToBuilder = readDockerignore(path.join(root, '.dockerignore'));
const chartValues = parse(readFileSync(path.join(root, 'helm/market-pipeline/values.yaml'), 'utf8')) as {
  podSecurityContext: { runAsUser: number };
};

/**
 * Commands the operator already renders whose CLI entry is still being written on its own
 * branch (wip-backfill). Every other rendered command must exist in workloads/src/cli.ts.
 */
const PENDING_COMMANDS: string[] = [];

const IMAGES = {
  operator: 'images/operator.Dockerfile',
  workloads: 'images/workloads.Dockerfile',
} as const;

const finalStage = (d: Dockerfile): Stage => d.stages.at(-1)!;
const stageNamed = (d: Dockerfile, name: string): Stage => {
  const stage = d.stages.find((s) => s.name === name);
  if (!stage) throw new Error(`no stage named ${name}`);
  return stage;
};
const runs = (stage: Stage): string =>
  instructions(stage, 'RUN')
    .map((r) => r.value)
    .join('\n');

/** Where each path of the final image comes from: image path → repository path (or build output). */
function imageFiles(d: Dockerfile): Map<string, { stage: string | undefined; source: string }> {
  const final = finalStage(d);
  const files = new Map<string, { stage: string | undefined; source: string }>();
  let cwd = '/';
  for (const i of final.instructions) {
    if (i.keyword === 'WORKDIR') cwd = path.posix.resolve(cwd, i.args[0]!);
    if (i.keyword !== 'COPY') continue;
    const rawDest = i.args.at(-1)!;
    const dest = path.posix.resolve(cwd, rawDest);
    // A destination ending in / (or several sources) is a folder to copy into.
    const intoFolder = i.args.length > 2 || rawDest.endsWith('/') || rawDest === '.';
    for (const source of i.args.slice(0, -1)) {
      const target = intoFolder ? path.posix.join(dest, path.basename(source)) : dest;
      files.set(target, { stage: i.flags.from, source });
    }
  }
  return files;
}

/** The repository file behind an image path, through the COPY that put it there (deepest match). */
function repoFileAt(d: Dockerfile, imagePath: string): string | undefined {
  const copies = [...imageFiles(d)].filter(
    ([dest]) => imagePath === dest || imagePath.startsWith(`${dest}/`),
  );
  const deepest = copies.sort((a, b) => b[0].length - a[0].length)[0];
  if (!deepest || deepest[1].stage !== undefined) return undefined;
  const [dest, { source }] = deepest;
  return path.join(source, path.posix.relative(dest, imagePath));
}

/** The TypeScript file `npm run build` compiles into dist/<relative>.js, if it is part of the build. */
function compiledFrom(distRelative: string): string | undefined {
  const ts = distRelative.replace(/\.js$/, '.ts');
  const inBuild = buildConfig.include.some((dir) => ts.startsWith(`${dir}/`));
  return inBuild && existsSync(path.join(root, ts)) ? ts : undefined;
}

/** The dist/ module a bin/*.js entry runs (`runFromBin('<module>')`). */
function binTarget(binFile: string): string {
  const match = /runFromBin\('([^']+)'\)/.exec(readFileSync(path.join(root, binFile), 'utf8'));
  if (!match) throw new Error(`${binFile} does not call runFromBin`);
  return match[1]!;
}

describe.each(Object.entries(IMAGES))('%s image (%s)', (image, file) => {
  const dockerfile = readDockerfile(path.join(root, file));
  const final = finalStage(dockerfile);

  it('builds in stages from a pinned node:24 bookworm-slim that satisfies package.json engines', () => {
    expect(dockerfile.syntax).toMatch(/^docker\/dockerfile:1/);
    expect(dockerfile.stages.length).toBeGreaterThanOrEqual(3);
    const base = dockerfile.globalArgs.NODE_IMAGE!;
    const version = /^node:(24)\.(\d+)\.(\d+)-bookworm-slim$/.exec(base);
    expect(version).not.toBeNull();
    const [, minMajor, minMinor] = /^>=(\d+)\.(\d+)$/.exec(packageJson.engines.node)!;
    expect(Number(version![1])).toBe(Number(minMajor));
    expect(Number(version![2])).toBeGreaterThanOrEqual(Number(minMinor));
    for (const stage of dockerfile.stages) expect(stage.from).toBe(base);
  });

  it('compiles with every dependency, then ships production dependencies only', () => {
    const build = stageNamed(dockerfile, 'build');
    expect(runs(build)).toMatch(/npm ci\b(?![^\n]*--omit=dev)/);
    expect(runs(build)).toContain('npm run build');
    const deps = stageNamed(dockerfile, 'deps');
    expect(runs(deps)).toMatch(/npm ci --omit=dev/);
    const nodeModules = instructions(final, 'COPY').filter((c) => c.args.at(-1) === 'node_modules');
    expect(nodeModules).toHaveLength(1);
    expect(nodeModules[0]!.flags.from).toBe('deps');
    expect(runs(final)).not.toMatch(/npm (ci|install)/);
  });

  it('copies from the build context only files that exist and that .dockerignore lets through', () => {
    for (const stage of dockerfile.stages) {
      for (const copy of instructions(stage, 'COPY').filter((c) => !c.flags.from)) {
        for (const source of copy.args.slice(0, -1)) {
          expect({ source, exists: existsSync(path.join(root, source)) }).toEqual({ source, exists: true });
          expect({ source, sent: sentToBuilder(source) }).toEqual({ source, sent: true });
        }
      }
    }
    // Test files and local state stay out of the context.
    expect(sentToBuilder('operator/src/config.test.ts')).toBe(false);
    expect(sentToBuilder('node_modules/zod/package.json')).toBe(false);
    expect(sentToBuilder('dist/operator/src/main.js')).toBe(false);
    expect(sentToBuilder('.test-env/env')).toBe(false);
  });

  it('copies from the build stage only what `npm run build` produces', () => {
    const build = stageNamed(dockerfile, 'build');
    const buildDir = workdir(build)!;
    expect(tsconfig.compilerOptions).toMatchObject({ outDir: 'dist', rootDir: '.' });
    for (const copy of instructions(final, 'COPY').filter((c) => c.flags.from === 'build')) {
      for (const source of copy.args.slice(0, -1)) {
        const relative = path.posix.relative(buildDir, source);
        expect(relative).toMatch(/^dist\//);
        // dist/<dir> is the output of <dir>, which must be compiled by tsconfig.build.json.
        const compiled = relative.slice('dist/'.length);
        expect({ compiled, inBuild: buildConfig.include.some((dir) => dir.startsWith(compiled)) }).toEqual({
          compiled,
          inBuild: true,
        });
        // …and the build stage must have copied its sources in.
        const copiedIn = instructions(build, 'COPY').some((c) =>
          c.args.slice(0, -1).some((s) => s.startsWith(compiled)),
        );
        expect({ compiled, copiedIn }).toEqual({ compiled, copiedIn: true });
      }
    }
  });

  it('runs as a numeric non-root user, the uid of the operator-rendered pods and of the chart', () => {
    const users = instructions(final, 'USER');
    expect(users).toHaveLength(1);
    const [uid, gid] = users[0]!.args[0]!.split(':').map(Number);
    expect(Number.isInteger(uid)).toBe(true);
    expect(uid).not.toBe(0);
    expect(gid).toBe(uid);
    expect(uid).toBe(DEFAULT_RENDER_OPTIONS.runAsUser);
    expect(uid).toBe(chartValues.podSecurityContext.runAsUser);
    // USER comes last: nothing after it may need root.
    const userIndex = final.instructions.indexOf(users[0]!);
    expect(final.instructions.slice(userIndex + 1).map((i) => i.keyword)).not.toContain('RUN');
  });

  it('installs tini from Debian and carries the OCI labels', () => {
    expect(runs(final)).toMatch(/apt-get install -y --no-install-recommends tini=\S+/);
    expect(runs(final)).toContain('rm -rf /var/lib/apt/lists/*');
    const labels = instructions(final, 'LABEL')
      .map((l) => l.value)
      .join(' ');
    for (const key of ['title', 'description', 'source', 'licenses', 'version', 'revision']) {
      expect(labels).toContain(`org.opencontainers.image.${key}=`);
    }
    expect(labels).toContain(`org.opencontainers.image.licenses="${packageJson.license}"`);
    expect(labels).toContain(`org.opencontainers.image.title="market-pipeline-${image}"`);
  });
});

describe('operator image entry point', () => {
  const dockerfile = readDockerfile(path.join(root, IMAGES.operator));
  const [entrypoint] = instructions(finalStage(dockerfile), 'ENTRYPOINT');

  it('is tini running the npm bin market-pipeline-operator, which runs the built operator', () => {
    expect(entrypoint!.execForm).toBe(true);
    expect(entrypoint!.args.slice(0, 3)).toEqual(['/usr/bin/tini', '--', 'node']);
    const binInImage = entrypoint!.args[3]!;
    const binFile = repoFileAt(dockerfile, binInImage)!;
    expect(binFile).toBe(packageJson.bin['market-pipeline-operator']);
    expect(existsSync(path.join(root, binFile))).toBe(true);
    const target = binTarget(binFile);
    expect(compiledFrom(target)).toBe('operator/src/main.ts');
    // The module is in the image: dist/operator is copied from the build, next to bin/.
    expect(imageFiles(dockerfile).get('/app/dist/operator')).toEqual({
      stage: 'build',
      source: '/src/dist/operator',
    });
  });
});

describe('workload image entry point', () => {
  const dockerfile = readDockerfile(path.join(root, IMAGES.workloads));
  const final = finalStage(dockerfile);
  const [entrypoint] = instructions(final, 'ENTRYPOINT');
  const wrapperFile = repoFileAt(dockerfile, '/usr/local/bin/market-pipeline')!;
  const wrapper = readFileSync(path.join(root, wrapperFile), 'utf8');

  it('is `market-pipeline`: the command the operator renders by default', () => {
    expect(entrypoint!.execForm).toBe(true);
    expect(entrypoint!.args).toEqual(DEFAULT_RENDER_OPTIONS.workloadCommand);
    expect(entrypoint!.args).toEqual(operatorEnv.parse({}).WORKLOAD_COMMAND.split(/\s+/));
  });

  it('is what every container the operator renders runs, with a command the CLI knows', () => {
    for (const spec of [{}, { source: polygonSource, kafka: { brokers: ['kafka:9092'] } }]) {
      const state = desiredState(makePipeline(spec));
      const containers = state.objects.flatMap((d) => {
        const o = d.object as {
          spec?: {
            template?: { spec?: { containers?: { command?: string[]; args?: string[] }[] } };
            jobTemplate?: {
              spec?: { template?: { spec?: { containers?: { command?: string[]; args?: string[] }[] } } };
            };
          };
        };
        return [
          ...(o.spec?.template?.spec?.containers ?? []),
          ...(o.spec?.jobTemplate?.spec?.template?.spec?.containers ?? []),
        ];
      });
      expect(containers.length).toBeGreaterThan(3);
      for (const c of containers) expect(c.command).toEqual(entrypoint!.args);
      const rendered = new Set(containers.map((c) => c.args![0]!));
      const unknown = [...rendered].filter((name) => !(name in commands));
      expect(unknown.filter((name) => !PENDING_COMMANDS.includes(name))).toEqual([]);
      expect(rendered.size - unknown.length).toBeGreaterThanOrEqual(4);
    }
  });

  it("runs node with the workloads' flags, as the pods the operator renders and the benchmarks do", () => {
    const env = instructions(final, 'ENV').flatMap((i) => i.args);
    expect(env).toContain(`NODE_OPTIONS=${WORKLOAD_NODE_OPTIONS}`);
    const state = desiredState(makePipeline({}));
    const containers = state.objects.flatMap((d) => {
      const o = d.object as {
        spec?: {
          template?: { spec?: { containers?: { env?: { name: string; value?: string }[] }[] } };
          jobTemplate?: {
            spec?: { template?: { spec?: { containers?: { env?: { name: string; value?: string }[] }[] } } };
          };
        };
      };
      return [
        ...(o.spec?.template?.spec?.containers ?? []),
        ...(o.spec?.jobTemplate?.spec?.template?.spec?.containers ?? []),
      ];
    });
    expect(containers.length).toBeGreaterThan(3);
    for (const c of containers)
      expect(c.env).toContainEqual({ name: 'NODE_OPTIONS', value: WORKLOAD_NODE_OPTIONS });
  });

  it('is on PATH in the image and execs node on the built CLI, under tini as PID 1', () => {
    expect(wrapperFile).toBe('images/market-pipeline');
    expect(statSync(path.join(root, wrapperFile)).mode & 0o111).not.toBe(0);
    execFileSync('sh', ['-n', path.join(root, wrapperFile)]);
    expect(wrapper).toMatch(/if \[ "\$\$" = 1 \]; then\s+exec \/usr\/bin\/tini -- node (\S+) "\$@"/);
    const bins = [...wrapper.matchAll(/exec (?:\/usr\/bin\/tini -- )?node (\S+) "\$@"/g)].map((m) => m[1]!);
    expect(bins).toHaveLength(2);
    for (const binInImage of bins) {
      const binFile = repoFileAt(dockerfile, binInImage)!;
      expect(binFile).toBe(packageJson.bin['market-pipeline']);
      expect(compiledFrom(binTarget(binFile))).toBe('workloads/src/cli.ts');
    }
    expect(imageFiles(dockerfile).get('/app/dist/workloads')).toEqual({
      stage: 'build',
      source: '/src/dist/workloads',
    });
  });

  it('has schemas/ where migrate looks for it: above dist/workloads/src/migrate', () => {
    expect(repoFileAt(dockerfile, '/app/schemas')).toBe('schemas');
    // findSchemasDir walks up from the module's folder and takes the first <dir>/schemas.
    let dir = '/app/dist/workloads/src/migrate';
    while (dir !== '/' && !imageFiles(dockerfile).has(path.posix.join(dir, 'schemas')))
      dir = path.posix.dirname(dir);
    expect(dir).toBe('/app');
    expect(existsSync(path.join(root, 'workloads/src/migrate/schema-files.ts'))).toBe(true);
  });
});
