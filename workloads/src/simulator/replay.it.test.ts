// Replay mode over a real socket: a script of frames reaches the subscribed client
// verbatim and in order, including frames a strict client must reject.
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RecordingClient, startTestSimulator } from '../../../test/support/simulator.js';
import { createLogger } from '../runtime/logger.js';
import { loadReplayFrames } from './replay.js';
import type { Simulator } from './simulator-server.js';

// Jest's default 5 s is too short for the socket round trips on a busy machine.
jest.setTimeout(30_000);

const SCRIPT = [
  '[{"ev":"C","p":"EUR/USD","x":48,"a":1.08523,"b":1.08521,"t":1714730400000}]',
  '[{"ev":"status","status":"success","message":"keepalive"},{"ev":"C","p":"EUR/USD","x":"48","a":1.08524,"b":1.08522,"t":1714730400100}]',
  '[{"ev":"XQ","foo":1}]',
  '[{"ev":"C","p":"EUR/USD","x":48,"a":1.08523,"b":1.08521,"t":1714730400000}]',
  '[{"ev":"C","p":"GBP/USD","x":48,"a":1.25101,"b":1.25099,"t":1714730399000},{"ev":"C","p":"EUR/USD","x":48,"a":1.0852,"b":1.08519,"t":1714730400200}]',
  '{"not":"an array"}',
  '[{"ev":"C","p":"EUR/USD","x":48,"a":"oops","b":1.08519,"t":1714730400300}]',
];

describe('simulator replay mode', () => {
  let simulator: Simulator | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await simulator?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function startWithScript(lines: string[], framesPerSecond: number): Promise<Simulator> {
    dir = mkdtempSync(path.join(os.tmpdir(), 'replay-'));
    const file = path.join(dir, 'script.jsonl');
    writeFileSync(file, `${lines.join('\n')}\n\n`);
    const frames = await loadReplayFrames(file, createLogger('test', 'silent'));
    simulator = await startTestSimulator({ replay: { frames, framesPerSecond, loop: false } });
    return simulator;
  }

  it('sends the script verbatim and in order after auth and subscribe, then idles', async () => {
    const sim = await startWithScript(SCRIPT, 0);
    const client = await RecordingClient.connect(sim.webSocketUrl);
    await client.authenticate();
    await client.subscribe('C.EUR/USD');
    // Script frames may arrive right behind the ack: count from the ack itself.
    const before =
      client.frames.indexOf('[{"ev":"status","status":"success","message":"subscribed to: C.EUR/USD"}]') + 1;
    expect(before).toBe(3); // connected, auth_success, ack
    await client.waitFor(() => client.frames.length >= before + SCRIPT.length);
    expect(client.frames.slice(before)).toEqual(SCRIPT);
    expect(sim.replay!.state()).toMatchObject({
      totalFrames: SCRIPT.length,
      finished: true,
      passesCompleted: 1,
    });
    // Idle afterwards: no generated quotes in replay mode.
    await new Promise((r) => setTimeout(r, 200));
    expect(client.frames).toHaveLength(before + SCRIPT.length);
    expect(client.closed).toBeUndefined();
    client.close();
  });

  it('hands the rest of the script to the next subscribed client when the first one is evicted', async () => {
    const lines = Array.from(
      { length: 40 },
      (_, i) => `[{"ev":"C","p":"EUR/USD","x":48,"a":1.1,"b":1.0,"t":${i}}]`,
    );
    const sim = await startWithScript(lines, 50);
    const first = await RecordingClient.connect(sim.webSocketUrl);
    await first.authenticate();
    await first.subscribe('C.*');
    await first.waitFor(() => first.frames.filter((f) => f.includes('"ev":"C"')).length >= 5);
    const second = await RecordingClient.connect(sim.webSocketUrl);
    await second.authenticate(); // evicts the first connection
    await first.waitForClose();
    await second.subscribe('C.*');
    const received = (c: RecordingClient) => c.frames.filter((f) => f.includes('"ev":"C"'));
    await second.waitFor(() => received(first).length + received(second).length >= lines.length);
    expect([...received(first), ...received(second)]).toEqual(lines);
    expect(received(second).length).toBeGreaterThan(0);
    second.close();
  });
});
