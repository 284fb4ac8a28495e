// Acknowledgements (and "still working" progress replies) of many JetStream messages written
// to the connection as one piece. JsMsg.ack() is a publish() per message: a TextEncoder
// call, a buffer and the outbound bookkeeping each; at full load that was a tenth of the
// bridge's CPU (bench/bridge-ingest.ts --profile). Here the PUB frames of a batch are built
// as one string and encoded once, through the same internal as WireBatch
// (ProtocolHandler.sendCommand: same outbound buffer, same order, same buffering while
// reconnecting; wire-batch.ts says why it is worth it and how the pin guards it).
//
// Why not fewer acks (ack policy "all", one cumulative ack per batch): an AckAll ack of
// sequence N acknowledges every message of the consumer up to N, including those another
// replica pulled from the same durable and has not written yet (and, within one replica,
// those of a concurrent write that has not committed). A replica that dies then loses them.
// The bridge runs several replicas on one durable and writes batches concurrently, so it
// keeps AckExplicit: one ack per message, but all of a batch's acks in one write.
import type { JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { protocolWriter, type ProtocolWriter } from './wire-batch.js';

const ACK = '+ACK';
const WORKING = '+WPI';

export class WireAcks {
  private constructor(
    private readonly nc: NatsConnection,
    private readonly protocol: ProtocolWriter,
  ) {}

  /** Acknowledges every message (final), in one write. */
  ack(msgs: Iterable<JsMsg>): void {
    this.reply(msgs, ACK, (m) => m.ack());
  }

  /** Tells the server every message is still being worked on (resets its ack wait), in one write. */
  working(msgs: Iterable<JsMsg>): void {
    this.reply(msgs, WORKING, (m) => m.working());
  }

  private reply(msgs: Iterable<JsMsg>, payload: string, fallback: (m: JsMsg) => void): void {
    let wire = '';
    const tail = ` ${payload.length}\r\n${payload}\r\n`;
    for (const m of msgs) {
      // The reply subject the server acks are published to (JsMsgImpl's, not in the JsMsg type).
      const reply = (m as unknown as { reply?: string }).reply ?? '';
      // A reply subject arrived as one token of a MSG line (no whitespace, no CR/LF), so it
      // goes into a frame verbatim; only a message without one takes the client's own path.
      if (reply !== '') wire += `PUB ${reply}${tail}`;
      else fallback(m);
    }
    if (wire === '') return;
    if (this.nc.isClosed()) throw new Error('the NATS connection is closed');
    this.protocol.sendCommand(Buffer.from(wire, 'utf8'));
  }

  /** For this connection, or undefined when its client does not offer the protocol handler (then use JsMsg.ack()). */
  static for(nc: NatsConnection | undefined): WireAcks | undefined {
    const protocol = protocolWriter(nc);
    return nc && protocol ? new WireAcks(nc, protocol) : undefined;
  }
}

/** The acks and progress replies of a worker: in one write when the client allows it, else one publish each. */
export interface Replies {
  ack(msgs: Iterable<JsMsg>): void;
  working(msgs: Iterable<JsMsg>): void;
}

export function repliesFor(nc: NatsConnection | undefined): Replies {
  return (
    WireAcks.for(nc) ?? {
      ack: (msgs) => {
        for (const m of msgs) m.ack();
      },
      working: (msgs) => {
        for (const m of msgs) m.working();
      },
    }
  );
}
