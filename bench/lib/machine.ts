// The conditions of a run, recorded with its figures: cores, CPU, memory and the versions
// of Node and of the servers measured against.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import pg from 'pg';
import { clickhouseClient, pgConfig } from '../../test/support/databases.js';

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memoryMb: number;
  os: string;
  node: string;
  postgres: string;
  nats: string;
  clickhouse: string;
  /** Settings of the test PostgreSQL that change write costs. */
  postgresSettings: Record<string, string>;
}

function osName(): string {
  try {
    const release = readFileSync('/etc/os-release', 'utf8');
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(release)?.[1];
    if (pretty) return `${pretty}, kernel ${os.release()}`;
  } catch {
    // not Linux, or no os-release
  }
  return `${os.type()} ${os.release()}`;
}

async function postgresFacts(
  env: Record<string, string>,
): Promise<Pick<MachineInfo, 'postgres' | 'postgresSettings'>> {
  const client = new pg.Client(pgConfig(env));
  await client.connect();
  try {
    const version = (await client.query<{ v: string }>("SELECT current_setting('server_version') AS v"))
      .rows[0]!.v;
    const settings = await client.query<{ name: string; setting: string }>(
      `SELECT name, setting FROM pg_settings
       WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'shared_buffers', 'max_wal_size')`,
    );
    return {
      postgres: version,
      postgresSettings: Object.fromEntries(settings.rows.map((r) => [r.name, r.setting])),
    };
  } finally {
    await client.end();
  }
}

async function clickhouseVersion(env: Record<string, string>): Promise<string> {
  const ch = clickhouseClient(env, 'default');
  try {
    const rs = await ch.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' });
    const [row] = await rs.json<{ v: string }>();
    return `${row?.v ?? '?'} (chDB behind the test HTTP adapter)`;
  } finally {
    await ch.close();
  }
}

/** The version of the nats-server the benchmarks run (their private servers'), not of any on PATH. */
function natsVersion(): string {
  const bin = process.env.NATS_SERVER_BIN;
  if (!bin) return 'unknown (NATS_SERVER_BIN is not set: run make test-env)';
  try {
    return execFileSync(bin, ['--version'], { encoding: 'utf8' })
      .trim()
      .replace(/^nats-server:\s*/, '');
  } catch (error) {
    return `unknown (${(error as Error).message})`;
  }
}

export async function machineInfo(env: Record<string, string>): Promise<MachineInfo> {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryMb: Math.round(os.totalmem() / 2 ** 20),
    os: osName(),
    node: process.versions.node,
    ...(await postgresFacts(env)),
    nats: natsVersion(),
    clickhouse: await clickhouseVersion(env),
  };
}
