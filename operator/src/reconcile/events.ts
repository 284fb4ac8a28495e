// Kubernetes Events about a MarketPipeline (core/v1, what `kubectl describe` shows): what the
// operator created, changed or deleted, and every failure with an actionable reason.
// Identical events (same object, type, reason and message) are sent at most once per window,
// so a condition that persists across retries does not flood the API server.
import type { Logger } from '../../../workloads/src/runtime/logger.js';
import type { KubeClient } from '../kube/client.js';
import { rfc3339 } from '../kube/time.js';

export interface EventTarget {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
  uid: string;
}

export type EventType = 'Normal' | 'Warning';

export interface EventSink {
  record(target: EventTarget, type: EventType, reason: string, message: string): void;
}

export class EventRecorder implements EventSink {
  private readonly sent = new Map<string, number>();

  constructor(
    private readonly client: KubeClient,
    private readonly identity: string,
    private readonly log: Logger,
    private readonly windowMs = 10 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  record(target: EventTarget, type: EventType, reason: string, message: string): void {
    const t = this.now();
    const key = `${target.uid}\u0000${type}\u0000${reason}\u0000${message}`;
    const last = this.sent.get(key);
    if (last !== undefined && t - last < this.windowMs) return;
    this.sent.set(key, t);
    if (this.sent.size > 1000) {
      for (const [k, at] of this.sent) if (t - at >= this.windowMs) this.sent.delete(k);
    }
    const time = rfc3339(t);
    const event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: {
        name: `${target.name}.${t.toString(16)}${Math.floor(Math.random() * 0xffff).toString(16)}`,
        namespace: target.namespace,
      },
      involvedObject: target,
      type,
      reason,
      message: message.slice(0, 1024),
      source: { component: 'market-pipeline-operator' },
      reportingComponent: 'market-pipeline-operator',
      reportingInstance: this.identity,
      firstTimestamp: time,
      lastTimestamp: time,
      count: 1,
    };
    (type === 'Warning' ? this.log.warn : this.log.info).call(
      this.log,
      { object: `${target.namespace}/${target.name}`, reason, event: type },
      message,
    );
    this.client.create('Event', event).catch((error: unknown) => {
      this.sent.delete(key);
      this.log.warn({ err: error, reason }, 'could not record an event');
    });
  }
}
