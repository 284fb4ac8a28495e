import { describe, expect, it } from '@jest/globals';
import { makePipeline, polygonSource } from '../../test/support/pipelines.js';
import type { MarketPipeline } from '../crd/spec.js';
import { pipelinesSharingPolygonKey, polygonKeyFingerprint } from './polygon-key.js';

function pipeline(name: string, namespace = 'market', key = 'apiKey', simulator = false): MarketPipeline {
  const p = makePipeline({
    source: simulator
      ? { simulator: {} }
      : { polygon: { ...polygonSource.polygon!, apiKeySecretRef: { name: 'polygon', key } } },
  });
  return { ...p, metadata: { ...p.metadata, name, namespace, uid: `uid-${namespace}-${name}` } };
}

describe('pipelines sharing a Polygon key', () => {
  it('finds the other pipelines of the namespace that name the same Secret key', () => {
    const a = pipeline('a');
    const all = [
      a,
      pipeline('c'),
      pipeline('b'),
      pipeline('d', 'other'),
      pipeline('e', 'market', 'key2'),
      pipeline('f', 'market', 'apiKey', true),
    ];
    expect(pipelinesSharingPolygonKey(a, all)).toEqual(['b', 'c']);
    expect(pipelinesSharingPolygonKey(pipeline('e', 'market', 'key2'), all)).toEqual([]);
    expect(pipelinesSharingPolygonKey(pipeline('f', 'market', 'apiKey', true), all)).toEqual([]);
  });

  it('ignores a pipeline being deleted', () => {
    const a = pipeline('a');
    const b = pipeline('b');
    b.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
    expect(pipelinesSharingPolygonKey(a, [a, b])).toEqual([]);
  });

  it('finds pipelines whose different Secrets hold the same key value (by digest)', () => {
    const a = pipeline('a');
    const b = pipeline('b', 'market', 'other-key');
    const c = pipeline('c', 'market', 'third-key');
    const digests = new Map([
      [a.metadata.uid, polygonKeyFingerprint(Buffer.from('K1').toString('base64'))],
      // Same value, with the trailing newline of a Secret made --from-file.
      [b.metadata.uid, polygonKeyFingerprint(Buffer.from('K1\n').toString('base64'))],
      [c.metadata.uid, polygonKeyFingerprint(Buffer.from('K2').toString('base64'))],
    ]);
    expect(pipelinesSharingPolygonKey(a, [a, b, c], (uid) => digests.get(uid))).toEqual(['b']);
    expect(pipelinesSharingPolygonKey(c, [a, b, c], (uid) => digests.get(uid))).toEqual([]);
    // Without a digest (unreadable Secret, missing key) only the same Secret key counts.
    expect(pipelinesSharingPolygonKey(a, [a, b, c])).toEqual([]);
    expect(polygonKeyFingerprint(undefined)).toBeUndefined();
    expect(polygonKeyFingerprint(Buffer.from('  ').toString('base64'))).toBeUndefined();
  });
});
