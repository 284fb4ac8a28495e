// A small raw-JSON client on top of @kubernetes/client-node's transport (auth, TLS,
// kubeconfig or in-cluster service account). It deliberately bypasses the generated model
// serializer: that one turns timestamps into Date objects in responses but not in watch
// events, and drops fields it does not know from request bodies. Here every object stays
// the JSON the API server sent, in lists, gets, watches and server-side applies alike.
import { HttpMethod, type Configuration, type KubeConfig } from '@kubernetes/client-node';
import { resourcePath, type KubeList, type KubeObject, type Kind, RESOURCES } from './resources.js';

export const FIELD_MANAGER = 'market-pipeline-operator';

/** An error response from the API server, with its Status fields. */
export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string | undefined,
    readonly apiMessage: string,
    readonly request: string,
  ) {
    super(`${request}: ${status} ${reason ?? ''} ${apiMessage}`.replace(/\s+/g, ' ').trim());
    this.name = 'KubeApiError';
  }
}

export const isNotFound = (error: unknown) => error instanceof KubeApiError && error.status === 404;
export const isConflict = (error: unknown) => error instanceof KubeApiError && error.status === 409;

type Query = Record<string, string | number | boolean | undefined>;

interface RequestOptions {
  query?: Query;
  body?: unknown;
  contentType?: string;
}

export type PatchType = 'merge' | 'json' | 'strategic';
const PATCH_CONTENT_TYPE: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
};

/** Constructed by KubeConfig.makeApiClient so it gets the same transport as generated clients. */
class Transport {
  constructor(readonly configuration: Configuration) {}
}

export class KubeClient {
  private readonly transport: Transport;

  constructor(readonly kubeConfig: KubeConfig) {
    this.transport = kubeConfig.makeApiClient(Transport);
  }

  async request<T>(method: HttpMethod, path: string, options: RequestOptions = {}): Promise<T> {
    const { configuration } = this.transport;
    const ctx = configuration.baseServer.makeRequestContext(path, method);
    ctx.setHeaderParam('Accept', 'application/json');
    ctx.setHeaderParam('User-Agent', FIELD_MANAGER);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) ctx.setQueryParam(key, String(value));
    }
    if (options.body !== undefined) {
      ctx.setHeaderParam('Content-Type', options.contentType ?? 'application/json');
      ctx.setBody(JSON.stringify(options.body));
    }
    await configuration.authMethods.default?.applySecurityAuthentication(ctx);
    const response = await configuration.httpApi.send(ctx).toPromise();
    const text = await response.body.text();
    const data: unknown = text ? JSON.parse(text) : undefined;
    if (response.httpStatusCode >= 200 && response.httpStatusCode < 300) return data as T;
    const status = (data ?? {}) as { reason?: string; message?: string };
    throw new KubeApiError(
      response.httpStatusCode,
      status.reason,
      status.message ?? text.slice(0, 500),
      `${method} ${path}`,
    );
  }

  /** The object, or undefined when it does not exist. */
  async get<T extends KubeObject>(
    kind: Kind,
    namespace: string | undefined,
    name: string,
  ): Promise<T | undefined> {
    try {
      return await this.request<T>(HttpMethod.GET, resourcePath(kind, namespace, name));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  list<T extends KubeObject>(
    kind: Kind,
    options: { namespace?: string; labelSelector?: string; fieldSelector?: string } = {},
  ): Promise<KubeList<T>> {
    return this.request(HttpMethod.GET, resourcePath(kind, options.namespace), {
      query: { labelSelector: options.labelSelector, fieldSelector: options.fieldSelector },
    });
  }

  create<T extends KubeObject>(kind: Kind, obj: T): Promise<T> {
    return this.request(HttpMethod.POST, resourcePath(kind, obj.metadata.namespace), { body: obj });
  }

  /** PUT with the object's resourceVersion: fails with 409 if someone changed it meanwhile. */
  replace<T extends KubeObject>(kind: Kind, obj: T): Promise<T> {
    return this.request(HttpMethod.PUT, resourcePath(kind, obj.metadata.namespace, obj.metadata.name), {
      body: obj,
    });
  }

  patch<T extends KubeObject>(
    kind: Kind,
    namespace: string | undefined,
    name: string,
    body: unknown,
    options: { type?: PatchType; subresource?: string; fieldManager?: string } = {},
  ): Promise<T> {
    return this.request(HttpMethod.PATCH, resourcePath(kind, namespace, name, options.subresource), {
      body,
      contentType: PATCH_CONTENT_TYPE[options.type ?? 'merge'],
      query: { fieldManager: options.fieldManager },
    });
  }

  /**
   * Server-side apply: the server merges `obj` into the live object and records that
   * `fieldManager` owns exactly the fields sent; fields it owned before but no longer sends
   * are removed. force=true takes over fields another manager set (we are the controller).
   */
  apply<T extends KubeObject>(
    obj: T,
    options: { fieldManager?: string; force?: boolean; subresource?: string } = {},
  ): Promise<T> {
    const kind = obj.kind as Kind;
    if (!(kind in RESOURCES)) throw new Error(`apply: unknown kind ${String(obj.kind)}`);
    return this.request(
      HttpMethod.PATCH,
      resourcePath(kind, obj.metadata.namespace, obj.metadata.name, options.subresource),
      {
        body: obj,
        // JSON is YAML, so the apply content type takes a JSON body.
        contentType: 'application/apply-patch+yaml',
        query: { fieldManager: options.fieldManager ?? FIELD_MANAGER, force: options.force ?? true },
      },
    );
  }

  /** Deletes the object; false when it was already gone. */
  async delete(
    kind: Kind,
    namespace: string | undefined,
    name: string,
    propagationPolicy: 'Background' | 'Foreground' | 'Orphan' = 'Background',
  ): Promise<boolean> {
    try {
      await this.request(HttpMethod.DELETE, resourcePath(kind, namespace, name), {
        body: { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy },
      });
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }
}
