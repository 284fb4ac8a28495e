// Many JetStream publishes (each with its reply subject and Nats-Msg-Id header) written to
// the connection as one piece. nats.js's publish() encodes every message in three parts
// (protocol line, headers, payload), each its own TextEncoder call and ArrayBuffer, plus a
// headers object with validation: with its confirmation, that was over half of the
// collector's CPU per tick (bench/collector-throughput.ts, `--profile`). Here the HPUB
// frames of a batch are built as one string and encoded once.
//
// The bytes go to the connection's protocol handler (nats-core's ProtocolHandler.sendCommand,
// the method publish() itself ends in): same outbound buffer, same order relative to other
// publishes, same buffering while reconnecting. It is not part of the public NatsConnection
// interface, so a WireBatch exists only when the connection has it (WireBatch.for returns
// undefined otherwise and the caller uses publish()), and a message a frame cannot carry
// safely (a subject or id with whitespace, a payload over the server's max_payload) is
// refused by add(), for the caller to send through publish(), which reports the problem.
//
// Because sendCommand is internal, the @nats-io packages are pinned exactly in package.json
// and wire-batch.test.ts fails if it goes away or behaves differently. Still worth it: on
// Node 24.22.3 and nats-server 2.15.3, a message with reply subject and Nats-Msg-Id costs
// the client 0.84 µs of CPU here against 3.46 µs through publish() (median of 5 alternating
// rounds of 200,000). The public alternatives do not replace it: JetStream batch publishing
// (js.startBatch) is atomic, needs nats-server 2.12 and streams with allow_atomic, and
// confirms a batch as a whole; fast ingest (2.14) is exported only from
// @nats-io/jetstream/internal.
import type { NatsConnection } from '@nats-io/transport-node';

export interface ProtocolWriter {
  sendCommand(command: Uint8Array): void;
}

/**
 * The connection's protocol handler, the one internal this module and wire-acks.ts write
 * through; undefined when the client does not offer it (then use the public API).
 */
export function protocolWriter(nc: NatsConnection | undefined): ProtocolWriter | undefined {
  const protocol = (nc as unknown as { protocol?: Partial<ProtocolWriter> } | undefined)?.protocol;
  return typeof protocol?.sendCommand === 'function' ? (protocol as ProtocolWriter) : undefined;
}

/** Subjects and header values a frame carries verbatim: visible ASCII, no spaces. */
const FRAME_TOKEN = /^[\x21-\x7e]+$/;

export class WireBatch {
  private wire = '';
  private count = 0;
  /** The server's max_payload, read when a batch starts (it can change with a reconnect). */
  private maxPayload = Number.POSITIVE_INFINITY;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly protocol: ProtocolWriter,
  ) {}

  /** Appends one publish; false when it must go through nc.publish() instead. */
  add(subject: string, reply: string, msgId: string, data: string | Uint8Array): boolean {
    if (typeof data !== 'string' || !FRAME_TOKEN.test(subject) || !FRAME_TOKEN.test(msgId)) return false;
    if (this.count === 0) this.maxPayload = this.nc.info?.max_payload ?? Number.POSITIVE_INFINITY;
    const header = `NATS/1.0\r\nNats-Msg-Id: ${msgId}\r\n\r\n`;
    const total = header.length + Buffer.byteLength(data);
    if (total > this.maxPayload) return false;
    this.wire += `HPUB ${subject} ${reply} ${header.length} ${total}\r\n${header}${data}\r\n`;
    this.count++;
    return true;
  }

  /** Forgets what was added and not written. */
  clear(): void {
    this.wire = '';
    this.count = 0;
  }

  /** Hands everything added to the connection, in order. Throws when the connection is closed. */
  write(): void {
    if (this.count === 0) return;
    const wire = this.wire;
    this.clear();
    if (this.nc.isClosed() || this.nc.isDraining())
      throw new Error('the NATS connection is closed or draining');
    this.protocol.sendCommand(Buffer.from(wire, 'utf8'));
  }

  /** A batch writer for this connection, or undefined when its client does not offer the protocol handler. */
  static for(nc: NatsConnection): WireBatch | undefined {
    const protocol = protocolWriter(nc);
    if (!protocol) return undefined;
    // A server without headers support (before 2.2) cannot take HPUB; publish() says so.
    if (nc.info?.headers === false) return undefined;
    return new WireBatch(nc, protocol);
  }
}
