// KubeClient sends its requests through the plumbing of @kubernetes/client-node's generated
// client (Configuration.baseServer/authMethods/httpApi, RequestContext), which the library
// uses internally and does not document for this use; client-node is pinned exactly in
// package.json for it. These tests fail when that plumbing changes what reaches the server:
// the method, path, query, headers, credentials and body of a request, and how a response
// and an error come back. Against the real API server: test/integration/operator/*.
import { afterEach, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeApiError, KubeClient } from './client.js';

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

let server: http.Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

/** Records each request and answers it with the next of `replies`. */
async function recordingServer(replies: { status: number; body: unknown }[]) {
  const received: Received[] = [];
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      received.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const reply = replies.shift() ?? { status: 500, body: {} };
      res.writeHead(reply.status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    // client-node 2.x refuses plain http unless TLS verification is explicitly off.
    clusters: [
      {
        name: 'c',
        server: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`,
        skipTLSVerify: true,
      },
    ],
    users: [{ name: 'u', token: 'test-token' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return { client: new KubeClient(kc), received };
}

describe('KubeClient on client-node’s request plumbing', () => {
  it('is the pinned client-node: exact in package.json and installed as such', () => {
    const root = new URL('../../../', import.meta.url);
    const pinned = (
      JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
        dependencies: Record<string, string>;
      }
    ).dependencies['@kubernetes/client-node'];
    const installed = (
      JSON.parse(
        readFileSync(new URL('node_modules/@kubernetes/client-node/package.json', root), 'utf8'),
      ) as { version: string }
    ).version;
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
    expect(installed).toBe(pinned);
  });

  it('sends method, path, query, credentials, content type and JSON body as given, and returns the JSON', async () => {
    const { client, received } = await recordingServer([
      {
        status: 200,
        body: { kind: 'ConfigMap', metadata: { name: 'a', creationTimestamp: '2026-01-02T03:04:05Z' } },
      },
    ]);
    const obj = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'a', namespace: 'ns 1' },
      data: { k: 'v' },
    };
    const result = await client.apply(obj, { fieldManager: 'fm' });
    // Timestamps stay the strings the server sent (the generated serializer would make Dates).
    expect(result).toEqual({
      kind: 'ConfigMap',
      metadata: { name: 'a', creationTimestamp: '2026-01-02T03:04:05Z' },
    });
    expect(received).toHaveLength(1);
    const [req] = received;
    expect(req!.method).toBe('PATCH');
    const url = new URL(req!.url, 'http://x');
    expect(url.pathname).toBe('/api/v1/namespaces/ns%201/configmaps/a');
    expect(Object.fromEntries(url.searchParams)).toEqual({ fieldManager: 'fm', force: 'true' });
    expect(req!.headers.authorization).toBe('Bearer test-token');
    expect(req!.headers['content-type']).toBe('application/apply-patch+yaml');
    expect(req!.headers.accept).toBe('application/json');
    expect(req!.headers['user-agent']).toBe('market-pipeline-operator');
    expect(JSON.parse(req!.body)).toEqual(obj);
  });

  it('turns an error status into KubeApiError with the Status fields, and 404 on get into undefined', async () => {
    const { client } = await recordingServer([
      { status: 409, body: { kind: 'Status', reason: 'Conflict', message: 'the object has been modified' } },
      { status: 404, body: { kind: 'Status', reason: 'NotFound', message: 'not found' } },
    ]);
    const error = await client
      .replace('ConfigMap', { metadata: { name: 'a', namespace: 'n', resourceVersion: '1' } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeApiError);
    expect(error).toMatchObject({
      status: 409,
      reason: 'Conflict',
      apiMessage: 'the object has been modified',
    });
    await expect(client.get('ConfigMap', 'n', 'missing')).resolves.toBeUndefined();
  });
});
