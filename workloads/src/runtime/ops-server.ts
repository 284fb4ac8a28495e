// One HTTP port per workload for operations: Prometheus metrics, liveness and readiness.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry, collectDefaultMetrics } from 'prom-client';

export interface ReadinessCheck {
  name: string;
  /** Returns undefined when ready, or why not. */
  check: () => string | undefined;
}

export interface OpsServer {
  registry: Registry;
  port: number;
  addReadinessCheck(check: ReadinessCheck): void;
  close(): Promise<void>;
}

export function createRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** Starts the server on `port` (0 picks a free one). /healthz is 200 while the process serves. */
export async function startOpsServer(registry: Registry, port: number): Promise<OpsServer> {
  const checks: ReadinessCheck[] = [];
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      registry.metrics().then(
        (body) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(body),
        (error: Error) => res.writeHead(500).end(error.message),
      );
    } else if (path === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      const failing = checks.flatMap((c) => {
        const why = c.check();
        return why === undefined ? [] : [`${c.name}: ${why}`];
      });
      res
        .writeHead(failing.length ? 503 : 200, { 'Content-Type': 'text/plain' })
        .end(failing.length ? `${failing.join('\n')}\n` : 'ready\n');
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, resolve);
  });
  return {
    registry,
    port: (server.address() as AddressInfo).port,
    addReadinessCheck: (check) => void checks.push(check),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
