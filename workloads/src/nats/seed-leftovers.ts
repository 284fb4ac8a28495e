// What an upgrade left under the seed's names (MARKET_TICKS, bridge-ticks,
// collector-tick-archive, …) versus what a pipeline run by hand under those names on the same
// NATS publishes now. The seed's durables are that pipeline's own; an operator pipeline that
// drains them after its upgrade may take only messages without a tenant_id (published before
// tenants were carried). A message that carries one proves a live seed-named publisher.
import type { JetStreamManager } from '@nats-io/jetstream';

const decoder = new TextDecoder();

/** The tenant_id a message carries, if it is JSON that has one. */
export function carriedTenant(data: Uint8Array): string | undefined {
  try {
    const tenant = (JSON.parse(decoder.decode(data)) as { tenant_id?: unknown } | null)?.tenant_id;
    return typeof tenant === 'string' ? tenant : undefined;
  } catch {
    return undefined; // not JSON: no tenant (the consumer's own rules decide what it is)
  }
}

/** The tenant of the newest message of a stream, if it carries one (a live seed-named publisher). */
export async function newestCarriesTenant(
  jsm: JetStreamManager,
  stream: string,
): Promise<string | undefined> {
  const info = await jsm.streams.info(stream).catch(() => undefined);
  if (!info || info.state.messages === 0) return undefined;
  const last = await jsm.streams.getMessage(stream, { seq: info.state.last_seq }).catch(() => null);
  return last ? carriedTenant(last.data) : undefined;
}
