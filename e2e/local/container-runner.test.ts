import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { imageEnvironment, processCommand, WORKLOAD_DOCKERFILE } from './container-runner.js';

describe('a container as a local process', () => {
  it("maps the image's entry point to this checkout and appends the args, $(VAR) expanded", () => {
    expect(
      processCommand(
        { name: 'aggregator', command: ['market-pipeline'], args: ['aggregate', '--timeframe', '$(TF)'] },
        { TF: '5m' },
        '/repo',
      ),
    ).toEqual({
      file: process.execPath,
      args: ['/repo/bin/market-pipeline.js', 'aggregate', '--timeframe', '5m'],
    });
  });

  it('refuses a command that is not an entry point of the image', () => {
    expect(() =>
      processCommand({ name: 'x', command: ['/bin/sh'], args: ['-c', 'true'] }, {}, '/repo'),
    ).toThrow(/runs only the image's entry points market-pipeline/);
    expect(() => processCommand({ name: 'x', args: ['collector'] }, {}, '/repo')).toThrow(/command \[\]/);
  });

  it("takes the final stage's ENV of a Dockerfile as the image environment", () => {
    const dockerfile = [
      'FROM node AS build',
      'ENV BUILD_ONLY=1',
      'FROM node',
      'ENV NODE_ENV=production A="x y"',
      'ENV LEGACY some value',
    ].join('\n');
    expect(imageEnvironment(dockerfile)).toEqual({ NODE_ENV: 'production', A: 'x y', LEGACY: 'some value' });
    expect(imageEnvironment(readFileSync(WORKLOAD_DOCKERFILE, 'utf8'))).toMatchObject({
      NODE_ENV: 'production',
    });
  });
});
