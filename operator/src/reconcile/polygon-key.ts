// One Polygon key, two pipelines: Polygon allows one WebSocket connection per key and evicts
// the older one (max_connections, reference/polygon-forex.md §1.6), so two collectors with
// the same key evict each other in a loop and both record endless feed gaps. The operator
// sees the cause before any collector starts: two MarketPipelines in one namespace whose
// polygon source names the same Secret key, or whose Secret keys hold the same value. For
// the latter the operator compares a sha256 of each pipeline's key value (polygonKeyFingerprint):
// it already reads the Secrets its pipelines reference (to check their keys), and only the
// digest leaves that read: the value is never logged, stored, compared or copied as such.
// (The collector also logs and counts each eviction,
// market_pipeline_collector_reconnects_total{reason="max_connections"}.)
import { createHash } from 'node:crypto';
import type { MarketPipeline, SecretKeyRef } from '../crd/spec.js';

/**
 * The sha256 of a Polygon key held in a Secret's data (base64), surrounding whitespace
 * ignored (a Secret made with --from-file often ends in a newline): equal keys, equal digests.
 */
export function polygonKeyFingerprint(base64Value: string | undefined): string | undefined {
  if (base64Value === undefined) return undefined;
  const key = Buffer.from(base64Value, 'base64').toString('utf8').trim();
  return key ? createHash('sha256').update(key).digest('hex') : undefined;
}

/**
 * Names of the other live pipelines of the namespace whose collectors use the same Polygon
 * key: the same Secret key, or (`fingerprintOf`, by uid) a Secret key with the same value.
 */
export function pipelinesSharingPolygonKey(
  self: MarketPipeline,
  all: readonly MarketPipeline[],
  fingerprintOf: (uid: string) => string | undefined = () => undefined,
): string[] {
  const ref = self.spec.source.polygon?.apiKeySecretRef;
  if (!ref) return [];
  const mine = fingerprintOf(self.metadata.uid);
  return all
    .filter((p) => {
      const other = p.spec?.source?.polygon?.apiKeySecretRef;
      if (
        !other ||
        p.metadata.uid === self.metadata.uid ||
        p.metadata.namespace !== self.metadata.namespace ||
        p.metadata.deletionTimestamp
      ) {
        return false;
      }
      if (other.name === ref.name && other.key === ref.key) return true;
      return mine !== undefined && fingerprintOf(p.metadata.uid) === mine;
    })
    .map((p) => p.metadata.name)
    .sort();
}

/** The condition message naming the cause and the ways out. */
export function sharedKeyMessage(ref: SecretKeyRef, others: readonly string[]): string {
  return (
    `MarketPipeline ${others.join(', ')} also use${others.length === 1 ? 's' : ''} the Polygon key in Secret ` +
    `${ref.name} (key ${ref.key}) (the same Secret key, or the same key value in another Secret). Polygon allows one WebSocket connection per key and evicts the older ` +
    `one (max_connections), so these collectors evict each other in a loop and record feed gaps. Give each ` +
    `pipeline its own key, or collect once and relay to the others with source.relay (README, "One Polygon key, ` +
    `several pipelines").`
  );
}
