// WireBatch (and WireAcks, wire-acks.ts) write through nats-core's ProtocolHandler.sendCommand, which is not part of
// the NATS client's public API (wire-batch.ts says why: a quarter of publish()'s CPU per
// message). These tests fail when that internal changes, so that an upgrade of the client
// is a decision, not a surprise: the NATS packages are pinned exactly in package.json, and
// moving the pin means making these pass again (or dropping WireBatch). How the frames
// land in a real JetStream stream is tested in confirmed-queue.it.test.ts.
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { headers } from '@nats-io/nats-core';
import { ProtocolHandler } from '@nats-io/nats-core/internal';

const root = new URL('../../../', import.meta.url);
const readJson = (file: string) => JSON.parse(readFileSync(new URL(file, root), 'utf8')) as unknown;
const packageJson = readJson('package.json') as { dependencies: Record<string, string> };
/** The installed version (the packages' exports maps hide their package.json from require). */
const versionOf = (pkg: string) =>
  (readJson(`node_modules/${pkg}/package.json`) as { version: string }).version;

/** A ProtocolHandler as a connected NatsConnection holds it, its socket replaced by a recorder. */
function connectedHandler(): { handler: ProtocolHandler; sent: Uint8Array[] } {
  const sent: Uint8Array[] = [];
  const handler = new ProtocolHandler({ servers: ['127.0.0.1:4222'] } as never, {} as never);
  const internals = handler as unknown as {
    connected: boolean;
    infoReceived: boolean;
    transport: { send(frame: Uint8Array): void };
  };
  internals.connected = true;
  internals.infoReceived = true;
  internals.transport = { send: (frame) => sent.push(Uint8Array.from(frame)) };
  return { handler, sent };
}

describe('the NATS client internal WireBatch relies on', () => {
  it('is the pinned version: @nats-io packages exact in package.json and installed as such', () => {
    for (const pkg of ['@nats-io/nats-core', '@nats-io/transport-node', '@nats-io/jetstream']) {
      expect(packageJson.dependencies[pkg]).toMatch(/^\d+\.\d+\.\d+$/);
      expect(versionOf(pkg)).toBe(packageJson.dependencies[pkg]);
    }
  });

  it('ProtocolHandler.sendCommand(command, ...payloads) still exists', () => {
    expect(typeof ProtocolHandler.prototype.sendCommand).toBe('function');
    // One declared parameter, the rest a spread: WireBatch passes one Uint8Array.
    expect(ProtocolHandler.prototype.sendCommand.length).toBe(1);
  });

  it('sends the bytes verbatim, in order with publish(), through the same outbound buffer', async () => {
    const { handler, sent } = connectedHandler();
    const h = headers();
    h.set('Nats-Msg-Id', 'id-1');
    handler.publish('ticks.A', 'one', { reply: '_INBOX.r.1', headers: h });
    const frame = 'HPUB ticks.B _INBOX.r.2 31 34\r\nNATS/1.0\r\nNats-Msg-Id: id-2\r\n\r\ntwo\r\n';
    handler.sendCommand(Buffer.from(frame, 'utf8'));
    handler.publish('ticks.C', 'three');
    // Nothing is written synchronously: both paths are flushed together on the next microtask.
    expect(sent).toHaveLength(0);
    await Promise.resolve();
    const wire = Buffer.concat(sent).toString('utf8');
    expect(wire).toBe(
      'HPUB ticks.A _INBOX.r.1 31 34\r\nNATS/1.0\r\nNats-Msg-Id: id-1\r\n\r\none\r\n' +
        frame +
        'PUB ticks.C 5\r\nthree\r\n',
    );
  });
});
