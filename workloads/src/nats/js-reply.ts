// The two numbers the bridge reads from every JetStream message's reply subject, without
// JsMsg.info: that parses the whole subject (a split into a dozen strings, six parseInts)
// and cost the bridge about 5 % of its CPU at full load once it was read per message.
//
//   $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<dseq>.<ts>.<pending>            (9 tokens)
//   $JS.ACK.<domain>.<hash>.<stream>.<consumer>.<delivered>.<sseq>.<dseq>.<ts>.<pending>[.<token>]
//
// (the same two layouts nats.js's parseInfo reads; stream and consumer names hold no dots).

export interface ReplyCounts {
  /** How often the server has delivered this message (1 the first time). */
  delivered: number;
  /** Messages of the consumer not yet delivered to anyone when this one was. */
  pending: number;
}

const DOT = 46;
const ZERO = 48;

/** Delivery count and pending count of a $JS.ACK reply subject; undefined for anything else. */
export function replyCounts(reply: string): ReplyCounts | undefined {
  if (!reply.startsWith('$JS.ACK.')) return undefined;
  // Start of each token after "$JS.ACK." (at most 10 of them).
  const starts: number[] = [8];
  for (let i = 8; i < reply.length; i++) {
    if (reply.charCodeAt(i) === DOT) {
      if (starts.length === 10) return undefined;
      starts.push(i + 1);
    }
  }
  const tokens = starts.length + 2;
  // Index (among all tokens) of the delivery count; pending is 4 after it.
  const delivered = tokens === 9 ? 4 : tokens === 11 || tokens === 12 ? 6 : -1;
  if (delivered < 0) return undefined;
  const number = (token: number): number => {
    const from = starts[token - 2]!;
    const to = token - 1 < starts.length ? starts[token - 1]! - 1 : reply.length;
    let n = 0;
    for (let i = from; i < to; i++) {
      const d = reply.charCodeAt(i) - ZERO;
      if (d < 0 || d > 9) return NaN;
      n = n * 10 + d;
    }
    return to > from ? n : NaN;
  };
  const counts = { delivered: number(delivered), pending: number(delivered + 4) };
  return Number.isNaN(counts.delivered) || Number.isNaN(counts.pending) ? undefined : counts;
}
