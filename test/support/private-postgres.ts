// A PostgreSQL cluster of the test's own (initdb into a temp dir, a free loopback port),
// for tests that stop and start the server; the shared test server is never stopped.
// initdb refuses to run as root, so as root the cluster runs as the `postgres` OS user
// (as scripts/test-env/postgres.sh does).
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from './private-nats.js';

export interface PrivatePostgres {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  start(): void;
  stop(): void;
  close(): void;
}

function pgBin(): string {
  for (const v of ['17', '16', '15', '14']) {
    const dir = `/usr/lib/postgresql/${v}/bin`;
    if (existsSync(path.join(dir, 'initdb'))) return dir;
  }
  throw new Error('PostgreSQL server binaries (initdb, pg_ctl) not found; run `make test-env`');
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = pgBin();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mp-pg-'));
  const dataDir = path.join(dir, 'data');
  const port = await freePort();
  const asRoot = process.getuid?.() === 0;
  const runAs = (cmd: string, args: string[]) =>
    asRoot
      ? execFileSync('runuser', ['-u', 'postgres', '--', path.join(bin, cmd), ...args], { stdio: 'pipe' })
      : execFileSync(path.join(bin, cmd), args, { stdio: 'pipe' });
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
    chmodSync(dir, 0o700);
  }
  runAs('initdb', ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C.UTF-8']);
  const options = `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories=${dir} -c fsync=off`;
  const start = () =>
    void runAs('pg_ctl', ['-D', dataDir, '-o', options, '-l', path.join(dir, 'log'), '-w', 'start']);
  const stop = () => void runAs('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', 'stop']);
  start();
  const server = { host: '127.0.0.1', port, user: 'bridge', password: 'bridge', database: 'suho_trading' };
  const admin = new pg.Client({ host: server.host, port, user: 'postgres', database: 'postgres' });
  await admin.connect();
  await admin.query(`CREATE ROLE bridge LOGIN PASSWORD 'bridge'`);
  await admin.query('CREATE DATABASE suho_trading OWNER bridge');
  await admin.end();
  return {
    ...server,
    start,
    stop,
    close() {
      try {
        stop();
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
