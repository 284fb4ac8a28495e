// Age of a consumer's oldest unacknowledged message: how long the oldest data not yet
// durably written has been waiting. The lag gauge counts messages; this says whether the
// backlog is moving (a stuck poison batch or a write outage ages it, a burst does not).
//
// The ack floor is the last stream sequence below which everything is acknowledged, so the
// first message after it is the oldest not acknowledged (delivered or not). It is read with
// next_by_subj so that a message deleted or expired after the floor does not hide the next.
import type { ConsumerInfo, JetStreamManager, MsgRequest } from '@nats-io/jetstream';

type AckState = Pick<ConsumerInfo, 'num_pending' | 'num_ack_pending' | 'ack_floor'>;

/** Seconds since the oldest unacknowledged message was stored; 0 when none is waiting. */
export async function oldestUnackedAgeSeconds(
  jsm: JetStreamManager,
  stream: string,
  info: AckState,
  nowMs: number,
): Promise<number> {
  if (info.num_pending + info.num_ack_pending === 0) return 0;
  // STREAM.MSG.GET takes {seq, next_by_subj} (nats-server 2.9+); the client's type lists
  // it for direct gets only, and the bridge's streams do not enable direct gets.
  const query = { seq: info.ack_floor.stream_seq + 1, next_by_subj: '>' } as unknown as MsgRequest;
  const oldest = await jsm.streams.getMessage(stream, query);
  if (!oldest) return 0;
  return Math.max(0, (nowMs - oldest.time.getTime()) / 1000);
}
