// One Polygon key, two pipelines: Polygon allows one WebSocket connection per key and evicts
// the older one (max_connections, reference/polygon-forex.md §1.6), so two collectors with
// the same key evict each other in a loop and both record endless feed gaps. The operator
// sees the cause before any collector starts: two MarketPipelines in one namespace whose
// polygon source names the same Secret key. (Two Secrets holding the same key value are
// beyond what it reads: the operator never reads Secret values. The collector logs and
// counts each eviction, market_pipeline_collector_reconnects_total{reason="max_connections"}.)
import type { MarketPipeline, SecretKeyRef } from '../crd/spec.js';

/** Names of the other live pipelines of the namespace whose collectors use the same Polygon key. */
export function pipelinesSharingPolygonKey(self: MarketPipeline, all: readonly MarketPipeline[]): string[] {
  const ref = self.spec.source.polygon?.apiKeySecretRef;
  if (!ref) return [];
  return all
    .filter(
      (p) =>
        p.metadata.uid !== self.metadata.uid &&
        p.metadata.namespace === self.metadata.namespace &&
        !p.metadata.deletionTimestamp &&
        p.spec?.source?.polygon?.apiKeySecretRef?.name === ref.name &&
        p.spec.source.polygon.apiKeySecretRef.key === ref.key,
    )
    .map((p) => p.metadata.name)
    .sort();
}

/** The condition message naming the cause and the ways out. */
export function sharedKeyMessage(ref: SecretKeyRef, others: readonly string[]): string {
  return (
    `MarketPipeline ${others.join(', ')} also use${others.length === 1 ? 's' : ''} the Polygon key in Secret ` +
    `${ref.name} (key ${ref.key}). Polygon allows one WebSocket connection per key and evicts the older ` +
    `one (max_connections), so these collectors evict each other in a loop and record feed gaps. Give each ` +
    `pipeline its own key, or collect once and relay to the others with source.relay (README, "One Polygon key, ` +
    `several pipelines").`
  );
}
