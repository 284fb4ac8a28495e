// HTTP probes as the kubelet runs them (pkg/kubelet/prober): the first after
// initialDelaySeconds, then every periodSeconds; a 2xx/3xx answer within timeoutSeconds is
// a success; the result flips after successThreshold / failureThreshold in a row.
import http from 'node:http';
import type { V1Probe } from '@kubernetes/client-node';
import { localPort, type PodPorts } from './local-network.js';

export class Prober {
  private timer: NodeJS.Timeout | undefined;
  private successes = 0;
  private failures = 0;
  private result: boolean;
  private stopped = false;

  /** `onResult` is called when the result flips (true: healthy/ready). */
  constructor(
    private readonly probe: V1Probe,
    private readonly ports: PodPorts,
    initial: boolean,
    private readonly onResult: (ok: boolean, detail: string) => void,
  ) {
    this.result = initial;
  }

  start(): void {
    this.schedule((this.probe.initialDelaySeconds ?? 0) * 1000);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.runOnce(), delayMs);
  }

  private async runOnce(): Promise<void> {
    const { ok, detail } = await this.check();
    if (this.stopped) return;
    if (ok) {
      this.failures = 0;
      this.successes++;
      if (!this.result && this.successes >= (this.probe.successThreshold ?? 1)) this.flip(true, detail);
    } else {
      this.successes = 0;
      this.failures++;
      if (this.result && this.failures >= (this.probe.failureThreshold ?? 3)) this.flip(false, detail);
    }
    this.schedule((this.probe.periodSeconds ?? 10) * 1000);
  }

  private flip(ok: boolean, detail: string): void {
    this.result = ok;
    this.onResult(ok, detail);
  }

  private check(): Promise<{ ok: boolean; detail: string }> {
    const get = this.probe.httpGet;
    if (!get) return Promise.resolve({ ok: false, detail: 'only httpGet probes are supported here' });
    const port = localPort(this.ports, get.port as number | string);
    if (port === undefined) return Promise.resolve({ ok: false, detail: `no container port ${get.port}` });
    const timeoutMs = (this.probe.timeoutSeconds ?? 1) * 1000;
    return new Promise((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: get.path ?? '/', timeout: timeoutMs }, (res) => {
        res.resume();
        const code = res.statusCode ?? 0;
        resolve({ ok: code >= 200 && code < 400, detail: `HTTP probe failed with statuscode: ${code}` });
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (error) => resolve({ ok: false, detail: `Get ${get.path}: ${error.message}` }));
    });
  }
}
