// A NATS server of the test's own: a real nats-server (the same binary as the shared
// test server, NATS_SERVER_BIN from .test-env/env, never whatever nats-server is on PATH)
// on a free loopback port with its own JetStream store. Tests that use the
// product's fixed stream names, or that restart NATS, use one so they never disturb
// another test.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { natsServerBinary } from './nats-server-bin.js';

export interface PrivateNats {
  url: string;
  port: number;
  stop(): Promise<void>;
  /** Stops and starts the same server (same port and store), as an operator restart would. */
  restart(downMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export async function waitForPort(port: number, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not open 127.0.0.1:${port} within ${timeoutMs} ms`);
}

export async function startPrivateNats(): Promise<PrivateNats> {
  const bin = natsServerBinary();

  const storeDir = mkdtempSync(path.join(os.tmpdir(), 'mp-nats-'));
  const port = await freePort();
  let child: ChildProcess | undefined;

  async function start() {
    child = spawn(bin, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir], {
      stdio: 'ignore',
    });
    child.once('error', (error) => {
      throw new Error(`cannot run ${bin} (run \`make test-env\` to build it): ${error.message}`);
    });
    await waitForPort(port, 10_000, 'nats-server');
  }

  async function stop() {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
    });
  }

  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    stop,
    async restart(downMs = 0) {
      await stop();
      await new Promise((r) => setTimeout(r, downMs));
      await start();
    },
    async close() {
      await stop();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}
