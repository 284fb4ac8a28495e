import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { EXIT_USAGE, main } from './cli.js';

describe('market-pipeline CLI', () => {
  afterEach(() => {
    process.exitCode = undefined;
    jest.restoreAllMocks();
  });

  it('rejects an unknown command with a clear error and exit code 2', async () => {
    const errors: string[] = [];
    jest.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
    await main(['frobnicate']);
    expect(process.exitCode).toBe(EXIT_USAGE);
    expect(errors.join('\n')).toContain("unknown command 'frobnicate'");
    expect(errors.join('\n')).toContain('Usage: market-pipeline <command>');
  });

  it('prints usage for help (exit 0) and without a command (exit 2)', async () => {
    const lines: string[] = [];
    jest.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
    await main(['help']);
    expect(process.exitCode).toBe(0);
    await main([]);
    expect(process.exitCode).toBe(EXIT_USAGE);
    expect(lines[0]).toContain('Usage: market-pipeline <command>');
  });
});
