// A watch that cannot hang silently. client-node 1.4's Watch set no timeout at all (its
// 30 s AbortSignal was overwritten before use), so a connection that died without a FIN or
// RST, behind a NAT or a load balancer, left an informer waiting forever: the "informer
// stops receiving events" reports (kubernetes-client/javascript#364, #958). 2.x's Watch
// aborts a watch that receives nothing for 30 s (a TimeoutError, on which ListWatch
// reconnects at once from the last resourceVersion, without reporting an error). Here:
// - the server is asked to end every watch after a random 5-10 minutes (client-go does the
//   same) and to send bookmarks, so the resourceVersion a watch resumes from stays recent;
// - if nothing at all arrives for longer than that, the watch is aborted and reported as
//   failed, and the Informer restarts it (with backoff) from the last resourceVersion. With
//   2.x's own 30 s limit this is the second line: it acts only if a release drops that one.
import { Watch, type KubeConfig } from '@kubernetes/client-node';

export class WatchIdleError extends Error {
  constructor(path: string, idleMs: number) {
    super(`watch ${path} received nothing for ${Math.round(idleMs / 1000)} s; restarting it`);
    this.name = 'WatchIdleError';
  }
}

type Callback = (phase: string, apiObj: unknown, watchObj?: unknown) => void;

export class BoundedWatch extends Watch {
  constructor(
    config: KubeConfig,
    private readonly minTimeoutSeconds = 300,
    private readonly idleGraceSeconds = 30,
  ) {
    super(config);
  }

  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: Callback,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    const timeoutSeconds = Math.floor(this.minTimeoutSeconds * (1 + Math.random()));
    const idleMs = (timeoutSeconds + this.idleGraceSeconds) * 1000;
    let finished = false;
    const request: { controller?: AbortController } = {};
    let idle: NodeJS.Timeout | undefined;
    const finish = (err: unknown) => {
      if (finished) return;
      finished = true;
      clearTimeout(idle);
      done(err);
    };
    const arm = () => {
      clearTimeout(idle);
      idle = setTimeout(() => {
        // Report first: aborting makes the stream end with an AbortError, reported as well.
        finish(new WatchIdleError(path, idleMs));
        request.controller?.abort();
      }, idleMs);
      idle.unref();
    };
    arm();
    const controller = await super.watch(
      path,
      { ...queryParams, timeoutSeconds, allowWatchBookmarks: true },
      (phase, obj, raw) => {
        arm();
        callback(phase, obj, raw);
      },
      finish,
    );
    request.controller = controller;
    if (finished) controller.abort();
    return controller;
  }
}
