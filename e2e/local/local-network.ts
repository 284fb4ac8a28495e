// The one place the process kubelet departs from a cluster, and why. On a cluster every pod
// has its own network namespace (its container ports are its own) and Service names resolve
// through cluster DNS to a virtual IP that kube-proxy forwards to a ready pod. Here every
// process shares the machine's loopback, and nothing resolves `<name>-simulator`. So:
//
// 1. Ports: each container port of a pod gets a free local port. A process learns its port
//    from its environment (METRICS_PORT, SIMULATOR_PORT), so a variable named `*_PORT`
//    whose value is one of the pod's container ports is set to that port's local port;
//    probes use the same mapping. Two pods of one Deployment (a rolling update's surge)
//    therefore never clash.
// 2. Services: a variable whose value names a Service of the pod's namespace with one of its
//    ports (`<svc>[.<ns>[.svc[.cluster.local]]]:<port>`, e.g. ws://fx-demo-simulator:8765/forex)
//    is rewritten to 127.0.0.1:<proxy port>, where a small TCP proxy (a "process kube-proxy")
//    forwards each connection to a Ready pod selected by the Service, at its target port's
//    local port. The proxy's port stays the same for the whole run, like a ClusterIP, so a
//    collector started before the simulator (or across a simulator rollout) reconnects to
//    the same address, as it would on a cluster.
//
// Every other variable reaches the process exactly as the operator configured it.
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import type { V1Pod, V1ServiceSpec } from '@kubernetes/client-node';
import type { KubeClient } from '../../operator/src/kube/client.js';
import type { KubeObject } from '../../operator/src/kube/resources.js';
import type { Logger } from '../../workloads/src/runtime/logger.js';
import { freePort } from '../../test/support/private-nats.js';

/** Container port (number and name) → local port, for one pod. */
export interface PodPorts {
  byNumber: Map<number, number>;
  byName: Map<string, number>;
}

type Service = KubeObject & { metadata: { name: string; namespace: string }; spec?: V1ServiceSpec };

interface Endpoint {
  namespace: string;
  labels: Record<string, string>;
  ports: PodPorts;
  ready: boolean;
}

/** How many ports below the kernel's ephemeral range the pods' ports are taken from. */
export const POD_PORT_WINDOW = 2_000;
let nextPodPort: number | undefined;

/** The first port of the kernel's ephemeral range, or undefined where it cannot be read. */
export async function ephemeralRangeStart(): Promise<number | undefined> {
  const range = await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').catch(() => undefined);
  const start = Number(range?.trim().split(/\s+/)[0]);
  return Number.isInteger(start) && start > 0 ? start : undefined;
}

/** Whether nothing listens on `port` on any address (a pod's workload listens on 0.0.0.0). */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '0.0.0.0', () => probe.close(() => resolve(true)));
  });
}

/**
 * A local port for one container port, taken from just below the kernel's ephemeral range.
 * A port that listen(0) picks lies inside that range, and between its probe closing and the
 * workload's own listen() any outgoing connection of the run's many processes can take it as
 * its source port: the simulator then failed with EADDRINUSE. The kernel never hands out a
 * port below the range that way, so only a listener can hold one, and the probe sees that.
 * The window starts at a random offset, so two runs side by side rarely probe the same ports.
 */
export async function podPort(): Promise<number> {
  const rangeStart = await ephemeralRangeStart();
  if (rangeStart === undefined || rangeStart <= POD_PORT_WINDOW + 1024) return freePort(); // no room below it
  const low = rangeStart - POD_PORT_WINDOW;
  let candidate = nextPodPort ?? low + Math.floor(Math.random() * POD_PORT_WINDOW);
  for (let tried = 0; tried < POD_PORT_WINDOW; tried++) {
    const port: number = low + ((candidate - low) % POD_PORT_WINDOW);
    candidate = port + 1;
    nextPodPort = candidate;
    if (await portIsFree(port)) return port;
  }
  return freePort();
}

export async function allocatePodPorts(pod: V1Pod): Promise<PodPorts> {
  const ports: PodPorts = { byNumber: new Map(), byName: new Map() };
  for (const container of pod.spec!.containers) {
    for (const port of container.ports ?? []) {
      const local = await podPort();
      ports.byNumber.set(port.containerPort, local);
      if (port.name) ports.byName.set(port.name, local);
    }
  }
  return ports;
}

/** The local port of a probe's or Service's target port (a number or a port name). */
export function localPort(ports: PodPorts, target: number | string): number | undefined {
  return typeof target === 'number' || /^\d+$/.test(target)
    ? ports.byNumber.get(Number(target))
    : ports.byName.get(target);
}

/** Rule 1: `*_PORT` variables that hold one of the pod's container ports. */
export function mapPortVariables(env: Record<string, string>, ports: PodPorts): Record<string, string> {
  const out = { ...env };
  for (const [name, value] of Object.entries(env)) {
    const local = /_PORT$/.test(name) && /^\d+$/.test(value) ? ports.byNumber.get(Number(value)) : undefined;
    if (local !== undefined) out[name] = String(local);
  }
  return out;
}

/** Rule 2: Service DNS names with a Service port, replaced by `address(service, port)`. */
export function mapServiceAddresses(
  env: Record<string, string>,
  namespace: string,
  services: { name: string; ports: number[] }[],
  address: (service: string, port: number) => string,
): Record<string, string> {
  if (!services.length) return env;
  const names = services.map((s) => s.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
  const pattern = new RegExp(
    `(^|[/@,])(${names})(?:\\.${namespace}(?:\\.svc(?:\\.cluster\\.local)?)?)?:(\\d+)(?=$|[/?#,])`,
    'g',
  );
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    out[key] = value.replace(pattern, (match, lead: string, service: string, port: string) =>
      services.find((s) => s.name === service)!.ports.includes(Number(port))
        ? `${lead}${address(service, Number(port))}`
        : match,
    );
  }
  return out;
}

export class LocalNetwork {
  private readonly endpoints = new Map<string, Endpoint>();
  private readonly proxies = new Map<string, Promise<ServiceProxy>>();

  constructor(
    private readonly client: KubeClient,
    private readonly log: Logger,
  ) {}

  /** Where a pod's ports are reachable, and whether it is Ready (Services forward only to those). */
  setEndpoint(uid: string, pod: V1Pod, ports: PodPorts, ready: boolean): void {
    this.endpoints.set(uid, {
      namespace: pod.metadata!.namespace!,
      labels: pod.metadata!.labels ?? {},
      ports,
      ready,
    });
  }

  removeEndpoint(uid: string): void {
    this.endpoints.delete(uid);
  }

  /** The environment a process of `pod` gets: both rules applied. */
  async processEnv(
    pod: V1Pod,
    env: Record<string, string>,
    ports: PodPorts,
  ): Promise<Record<string, string>> {
    const namespace = pod.metadata!.namespace!;
    const services = (await this.client.list<Service>('Service', { namespace })).items;
    // Only Services with a virtual IP and a selector are load-balanced by kube-proxy.
    const routable = services.filter((s) => s.spec?.selector && s.spec.clusterIP !== 'None');
    const addresses = new Map<string, string>();
    for (const service of routable) {
      for (const port of service.spec!.ports ?? []) {
        const proxy = await this.proxy(service, port.port, port.targetPort ?? port.port);
        addresses.set(`${service.metadata.name}:${port.port}`, `127.0.0.1:${proxy.port}`);
      }
    }
    return mapServiceAddresses(
      mapPortVariables(env, ports),
      namespace,
      routable.map((s) => ({ name: s.metadata.name, ports: (s.spec!.ports ?? []).map((p) => p.port) })),
      (service, port) => addresses.get(`${service}:${port}`)!,
    );
  }

  private proxy(service: Service, port: number, targetPort: number | string): Promise<ServiceProxy> {
    const key = `${service.metadata!.namespace}/${service.metadata!.name}:${port}`;
    let proxy = this.proxies.get(key);
    if (!proxy) {
      const selector = service.spec!.selector!;
      const namespace = service.metadata!.namespace!;
      const pick = () => {
        const ready = [...this.endpoints.values()].filter(
          (e) =>
            e.ready &&
            e.namespace === namespace &&
            Object.entries(selector).every(([k, v]) => e.labels[k] === v),
        );
        const chosen = ready[Math.floor(Math.random() * ready.length)];
        return chosen && localPort(chosen.ports, targetPort);
      };
      proxy = ServiceProxy.start(key, pick, this.log);
      this.proxies.set(key, proxy);
    }
    return proxy;
  }

  async close(): Promise<void> {
    await Promise.all([...this.proxies.values()].map(async (p) => (await p).close()));
    this.proxies.clear();
  }
}

/** A Service's virtual address: forwards each connection to a port `pick` chooses (a Ready pod). */
class ServiceProxy {
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(name: string, pick: () => number | undefined, log: Logger): Promise<ServiceProxy> {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const proxy = new ServiceProxy(server, (server.address() as net.AddressInfo).port);
    server.on('connection', (client) => {
      const target = pick();
      if (target === undefined) {
        // No Ready endpoint: kube-proxy rejects the connection.
        log.debug({ service: name }, 'no ready endpoint; connection refused');
        client.destroy();
        return;
      }
      const upstream = net.connect(target, '127.0.0.1');
      for (const socket of [client, upstream]) {
        proxy.sockets.add(socket);
        socket.once('close', () => proxy.sockets.delete(socket));
        socket.on('error', () => (client.destroy(), upstream.destroy()));
      }
      client.pipe(upstream).pipe(client);
    });
    log.debug({ service: name, port: proxy.port }, 'service proxy listening');
    return proxy;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
