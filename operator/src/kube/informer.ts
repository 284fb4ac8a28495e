// A self-healing informer: client-node's ListWatch (list, then watch from the list's
// resourceVersion, relist on 410 Gone) on a BoundedWatch (never silently stuck), plus what
// it lacks for a long-running controller:
// - ListWatch *stops for good* on any other error (a failed list, a 403, a 500 on connect);
//   here it is restarted with capped exponential backoff, forever, until stop();
// - one ListWatch per watched namespace (WATCH_NAMESPACE may list several) behind one cache;
// - a `synced` flag and promise, so that workers start only after the first full list
//   (reconciling from a half-filled cache would prune objects that exist).
import { ListWatch, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../../../workloads/src/runtime/logger.js';
import { Backoff, sleep } from '../../../workloads/src/runtime/backoff.js';
import type { KubeClient } from './client.js';
import { resourcePath, type KubeList, type KubeObject, type Kind } from './resources.js';
import { BoundedWatch } from './watch.js';

export interface InformerOptions {
  kind: Kind;
  /** Namespaces to watch; undefined or empty = all namespaces. */
  namespaces?: string[];
  labelSelector?: string;
  fieldSelector?: string;
}

export type InformerEvent = 'change' | 'delete';
type Handler<T> = (obj: T, event: InformerEvent) => void;

export class Informer<T extends KubeObject> {
  // client-node types objects with Date timestamps, but watch events carry the JSON strings
  // (and so does our list): the objects are raw JSON, typed as T at this boundary.
  private readonly watches: {
    namespace: string | undefined;
    lw: ListWatch<KubernetesObject>;
    synced: boolean;
  }[] = [];
  private readonly handlers: Handler<T>[] = [];
  private readonly abort = new AbortController();
  private readonly backoffs: Backoff[] = [];

  constructor(
    private readonly client: KubeClient,
    kubeConfig: KubeConfig,
    private readonly options: InformerOptions,
    private readonly log: Logger,
  ) {
    const namespaces = options.namespaces?.length ? options.namespaces : [undefined];
    for (const namespace of namespaces) {
      const lw = new ListWatch<KubernetesObject>(
        resourcePath(options.kind, namespace),
        new BoundedWatch(kubeConfig),
        async () => (await this.listOnce(namespace)) as never,
        false,
        options.labelSelector,
        options.fieldSelector,
      );
      lw.on('add', (obj) => this.emit(obj as unknown as T, 'change'));
      lw.on('update', (obj) => this.emit(obj as unknown as T, 'change'));
      lw.on('delete', (obj) => this.emit(obj as unknown as T, 'delete'));
      this.watches.push({ namespace, lw, synced: false });
      this.backoffs.push(new Backoff({ initialMs: 1000, maxMs: 30_000, jitter: 0.2 }));
    }
  }

  get kind(): Kind {
    return this.options.kind;
  }

  on(handler: Handler<T>): void {
    this.handlers.push(handler);
  }

  /** Starts every watch; resolves once each has completed its first list (or stop()). */
  async start(): Promise<void> {
    await Promise.all(this.watches.map((entry, i) => this.run(entry, this.backoffs[i]!)));
  }

  get synced(): boolean {
    return this.watches.every((w) => w.synced);
  }

  get(namespace: string, name: string): T | undefined {
    const entry = this.watches.find((w) => w.namespace === undefined || w.namespace === namespace);
    return entry?.lw.get(name, namespace) as T | undefined;
  }

  list(namespace?: string): T[] {
    return this.watches
      .filter((w) => namespace === undefined || w.namespace === undefined || w.namespace === namespace)
      .flatMap((w) => [...w.lw.list(namespace)] as unknown as T[]);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.all(this.watches.map((w) => w.lw.stop()));
  }

  private emit(obj: T, event: InformerEvent): void {
    for (const handler of this.handlers) {
      try {
        handler(obj, event);
      } catch (error) {
        this.log.error({ err: error, kind: this.kind }, 'informer handler failed');
      }
    }
  }

  private listOnce(namespace: string | undefined): Promise<KubeList<T>> {
    return this.client.list<T>(this.options.kind, {
      namespace,
      labelSelector: this.options.labelSelector,
      fieldSelector: this.options.fieldSelector,
    });
  }

  /**
   * Starts one ListWatch and keeps it alive. The first successful start resolves the
   * returned promise; later failures are retried in the background.
   */
  private run(entry: (typeof this.watches)[number], backoff: Backoff): Promise<void> {
    return new Promise<void>((resolveFirstSync) => {
      const { signal } = this.abort;
      signal.addEventListener('abort', () => resolveFirstSync(), { once: true });
      let failed = false;
      const onError = (error: unknown) => {
        failed = true;
        if (signal.aborted) return;
        const delayMs = backoff.next();
        this.log.warn(
          { kind: this.kind, namespace: entry.namespace ?? '*', err: error, retryInMs: delayMs },
          'watch failed; restarting',
        );
        void sleep(delayMs, signal).then(() => start());
      };
      entry.lw.on('error', onError);
      const start = async () => {
        if (signal.aborted) return;
        failed = false;
        await entry.lw.start();
        // ListWatch.start() resolves after the list and the watch request; an error in
        // either has already called onError (and scheduled the next attempt).
        if (!failed && !signal.aborted) {
          backoff.reset();
          entry.synced = true;
          resolveFirstSync();
        }
      };
      void start();
    });
  }
}
