// Coverage of a relay pipeline (README "One Polygon key, several pipelines"). The source's
// coverage markers say "every quote of these symbols from..to is in the source's tick stream
// at a sequence <= tick_seq". The relay may say the same of its own stream only once it has
// republished, and its own stream confirmed, every source tick of its symbols up to that
// sequence: its marker then carries its own stream's last sequence (read after that point),
// the watermark its own bridge must ack through before its aggregator counts the span.
//
// Whether the relay got that far is read from the server, not from this process's memory, so a
// restart claims nothing it did not republish: the relay acks a source tick only after its
// copy was confirmed, so its tick durable's ack floor (every message at or below it acked) is
// exactly "republished and confirmed". Time whose ticks the relay never read (its source's
// stream dropped them while it was down, or they aged out before the relay existed) is cut out
// of the markers (clipToRelayed).
import type { CoverageMarker } from '../contracts/messages.js';

/** Quote time (ms, inclusive) the relay knows it did not republish every tick of. */
export interface LostSpan {
  fromMs: number;
  toMs: number;
}

/** What the relay's durable on the source's ticks says (consumer info). */
export interface TickDurableState {
  ack_floor: { stream_seq: number };
  num_pending: number;
  num_ack_pending: number;
}

/**
 * True when every source tick of the relay's symbols at a stream sequence <= `seq` was
 * republished and confirmed (then acked). Either the ack floor reached `seq`, or nothing of
 * the filter is left: none pending delivery, none delivered and unacked (the ack floor may
 * stop at the last tick of the relay's symbols while the source's stream goes on with others).
 * Not while the stream's first message held (`firstHeldSeq`) lies past the ack floor + 1: the
 * stream dropped messages the relay never read, and until the relay's ticks loop relayed the
 * next tick it cannot say when that loss ended (its LostSpan is recorded before that ack).
 */
export function ticksRelayedThrough(state: TickDurableState, seq: number, firstHeldSeq: number): boolean {
  if (state.ack_floor.stream_seq + 1 < firstHeldSeq) return false;
  return state.ack_floor.stream_seq >= seq || (state.num_pending === 0 && state.num_ack_pending === 0);
}

/** The source marker's symbols that the relay carries; empty: nothing of the relay's. */
export function relayedSymbols(marker: Pick<CoverageMarker, 'symbols'>, mine: readonly string[]): string[] {
  const own = new Set(mine);
  return marker.symbols.filter((s) => own.has(s));
}

type Span = Pick<CoverageMarker, 'segment_id' | 'from_ms' | 'to_ms'>;

/**
 * The marker's span without the time the relay lost: its start moves past every lost span it
 * overlaps (a segment's markers all start at the segment's start, so the part after the loss
 * is what can still be vouched for). A moved start gets its own segment id, the same for every
 * later marker of that segment, so the bridge's rows of the untouched segment never widen
 * over the loss. Undefined when nothing is left.
 */
export function clipToRelayed<T extends Span>(span: T, lost: readonly LostSpan[]): T | undefined {
  let from = span.from_ms;
  // By end: once the start moved past one, only spans ending later can overlap again.
  for (const l of [...lost].sort((a, b) => a.toMs - b.toMs)) {
    if (l.fromMs <= span.to_ms && l.toMs >= from) from = Math.max(from, l.toMs + 1);
  }
  if (from > span.to_ms) return undefined;
  if (from === span.from_ms) return span;
  return { ...span, segment_id: `${span.segment_id}+${from}`, from_ms: from };
}
