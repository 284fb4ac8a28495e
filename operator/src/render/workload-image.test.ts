import { describe, expect, it } from '@jest/globals';
import { makePipeline } from '../../test/support/pipelines.js';
import { desiredState } from './desired.js';
import { DEFAULT_RENDER_OPTIONS, DEFAULT_WORKLOAD_IMAGE, workloadImageRef } from './pod.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const OTHER = `sha256:${'b'.repeat(64)}`;
const operatorDefault = { repository: 'registry.example/mp-workloads', tag: '0.3.0' };

describe('the workload image of a pipeline', () => {
  it("is the operator's default when spec.image names none", () => {
    expect(workloadImageRef({ pullPolicy: 'IfNotPresent' }, operatorDefault)).toBe(
      'registry.example/mp-workloads:0.3.0',
    );
    expect(workloadImageRef({ pullPolicy: 'IfNotPresent' }, { ...operatorDefault, digest: DIGEST })).toBe(
      `registry.example/mp-workloads@${DIGEST}`,
    );
  });

  it("takes spec.image's fields where set; a digest wins over a tag", () => {
    const policy = 'IfNotPresent' as const;
    expect(workloadImageRef({ pullPolicy: policy, tag: '0.4.0' }, operatorDefault)).toBe(
      'registry.example/mp-workloads:0.4.0',
    );
    expect(workloadImageRef({ pullPolicy: policy, digest: OTHER, tag: '0.4.0' }, operatorDefault)).toBe(
      `registry.example/mp-workloads@${OTHER}`,
    );
    expect(workloadImageRef({ pullPolicy: policy, repository: 'mine/mp' }, operatorDefault)).toBe(
      'mine/mp:0.3.0',
    );
    // The default's digest identifies the default repository's image only.
    expect(
      workloadImageRef({ pullPolicy: policy, repository: 'mine/mp' }, { ...operatorDefault, digest: DIGEST }),
    ).toBe('mine/mp:0.3.0');
    expect(
      workloadImageRef({ pullPolicy: policy, tag: '0.4.0' }, { ...operatorDefault, digest: DIGEST }),
    ).toBe('registry.example/mp-workloads:0.4.0');
  });

  it('is what every rendered container runs', () => {
    const options = { ...DEFAULT_RENDER_OPTIONS, workloadImage: { ...operatorDefault, digest: DIGEST } };
    const state = desiredState(makePipeline({ timeframes: ['5m'] }), options);
    const images = new Set(
      state.objects.flatMap((o) => {
        const spec = (o.object as { spec?: Record<string, unknown> }).spec;
        const pod =
          (spec?.template as { spec?: { containers: { image: string }[] } } | undefined) ??
          ((spec?.jobTemplate as { spec: { template: unknown } } | undefined)?.spec.template as
            { spec?: { containers: { image: string }[] } } | undefined);
        return pod?.spec?.containers.map((c) => c.image) ?? [];
      }),
    );
    expect([...images]).toEqual([`registry.example/mp-workloads@${DIGEST}`]);
    expect(DEFAULT_RENDER_OPTIONS.workloadImage).toBe(DEFAULT_WORKLOAD_IMAGE);
  });
});
