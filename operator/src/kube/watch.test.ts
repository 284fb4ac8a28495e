import { afterEach, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { BoundedWatch, WatchIdleError } from './watch.js';

let server: http.Server | undefined;
afterEach(
  () =>
    new Promise<void>(
      (resolve) => (
        server ? server.closeAllConnections() : undefined,
        server?.close(() => resolve()) ?? resolve()
      ),
    ),
);

/** An API server stand-in that answers a watch with one event and then falls silent. */
async function silentWatchServer(): Promise<{ url: string; requests: URL[] }> {
  const requests: URL[] = [];
  server = http.createServer((req, res) => {
    requests.push(new URL(req.url!, 'http://x'));
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.write(
      `${JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a', resourceVersion: '5' } } })}\n`,
    );
    // ...and nothing more, with the connection left open: a dead peer looks just like this.
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, requests };
}

function kubeConfig(url: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: url, skipTLSVerify: true }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

describe('bounded watch', () => {
  it('asks the server to end the watch and send bookmarks, and fails a watch that falls silent', async () => {
    const { url, requests } = await silentWatchServer();
    const events: string[] = [];
    const failed = new Promise<unknown>((resolve) => {
      void new BoundedWatch(kubeConfig(url), 1, 0.2).watch(
        '/api/v1/configmaps',
        { resourceVersion: '4' },
        (phase, obj) => events.push(`${phase} ${(obj as { metadata: { name: string } }).metadata.name}`),
        resolve,
      );
    });
    const error = await failed;
    expect(error).toBeInstanceOf(WatchIdleError);
    expect(events).toEqual(['ADDED a']);
    const query = requests[0]!.searchParams;
    expect(query.get('watch')).toBe('true');
    expect(query.get('resourceVersion')).toBe('4');
    expect(query.get('allowWatchBookmarks')).toBe('true');
    expect(Number(query.get('timeoutSeconds'))).toBeGreaterThanOrEqual(1);
  });
});
