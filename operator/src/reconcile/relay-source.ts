// A relay pipeline (spec.source.relay) reads another MarketPipeline's streams; what the CRD
// cannot check (CEL sees one object) is checked here: the other pipeline exists, is not this
// one, and collects every symbol this one relays. The result feeds the render (the source's
// pipeline id and tenant, RELAY_SOURCE_*) and the RelaySourceReady condition.
import { pipelineId } from '../render/env.js';
import { specSchema, type MarketPipeline } from '../crd/spec.js';

export type RelayResolution =
  | { ok: true; pipelineId: string; tenantId: string; message: string }
  | {
      ok: false;
      reason: 'SourceNotFound' | 'SourceIsSelf' | 'SourceInvalid' | 'SymbolsNotInSource';
      message: string;
    };

/** Undefined when the pipeline is not a relay. */
export function resolveRelaySource(
  self: MarketPipeline,
  get: (namespace: string, name: string) => MarketPipeline | undefined,
): RelayResolution | undefined {
  const relay = self.spec.source.relay;
  if (!relay) return undefined;
  const namespace = relay.namespace ?? self.metadata.namespace;
  const ref = `MarketPipeline ${namespace}/${relay.pipeline}`;
  if (namespace === self.metadata.namespace && relay.pipeline === self.metadata.name) {
    return { ok: false, reason: 'SourceIsSelf', message: `${ref} is this pipeline: relay from another one` };
  }
  const source = get(namespace, relay.pipeline);
  if (!source || source.metadata.deletionTimestamp) {
    return {
      ok: false,
      reason: 'SourceNotFound',
      message: `${ref} (spec.source.relay) does not exist; the relay is scaled to 0 until it does`,
    };
  }
  const parsed = specSchema.safeParse(source.spec);
  if (!parsed.success) {
    return { ok: false, reason: 'SourceInvalid', message: `${ref} has an invalid spec` };
  }
  const collected = new Set(parsed.data.symbols);
  const missing = self.spec.symbols.filter((s) => !collected.has(s));
  if (missing.length) {
    return {
      ok: false,
      reason: 'SymbolsNotInSource',
      message:
        `${ref} does not collect ${missing.join(', ')} (spec.symbols must be a subset of its symbols: ` +
        `${parsed.data.symbols.join(', ')}); the relay is scaled to 0 until it does`,
    };
  }
  return {
    ok: true,
    pipelineId: pipelineId(namespace, relay.pipeline),
    tenantId: parsed.data.tenantId,
    message: `relaying ${self.spec.symbols.join(', ')} from ${ref} (tenant ${parsed.data.tenantId})`,
  };
}
