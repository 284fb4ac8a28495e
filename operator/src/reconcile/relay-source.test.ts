import { describe, expect, it } from '@jest/globals';
import type { V1CronJob, V1Deployment } from '@kubernetes/client-node';
import { makePipeline, polygonSource } from '../../test/support/pipelines.js';
import type { MarketPipeline } from '../crd/spec.js';
import { desiredState } from '../render/desired.js';
import { resolveRelaySource } from './relay-source.js';

const source = makePipeline(
  { source: polygonSource, symbols: ['EUR/USD', 'GBP/USD', 'XAU/USD'], tenantId: 'acme' },
  'fx-collect',
);
const relay = (overrides: Parameters<typeof makePipeline>[0] = {}, namespace = 'markets') =>
  makePipeline(
    { source: { relay: { pipeline: 'fx-collect' } }, symbols: ['EUR/USD'], tenantId: 'globex', ...overrides },
    'fx-relay',
    namespace,
  );
const lookup =
  (...all: MarketPipeline[]) =>
  (ns: string, name: string) =>
    all.find((p) => p.metadata.namespace === ns && p.metadata.name === name);

describe('the source of a relay pipeline', () => {
  it("resolves to the source's pipeline id and tenant", () => {
    expect(resolveRelaySource(relay(), lookup(source))).toMatchObject({
      ok: true,
      pipelineId: 'markets_fx-collect',
      tenantId: 'acme',
    });
    expect(resolveRelaySource(source, lookup(source))).toBeUndefined();
  });

  it('names a missing source, itself, and symbols the source does not collect', () => {
    expect(resolveRelaySource(relay({}, 'other'), lookup(source))).toMatchObject({
      ok: false,
      reason: 'SourceNotFound',
      message: expect.stringContaining('other/fx-collect'),
    });
    expect(
      resolveRelaySource(
        relay({ source: { relay: { pipeline: 'fx-collect', namespace: 'other' } } }, 'markets'),
        lookup(source),
      ),
    ).toMatchObject({ ok: false, reason: 'SourceNotFound' });
    const self = makePipeline(
      { source: { relay: { pipeline: 'fx-relay', namespace: 'markets' } } },
      'fx-relay',
    );
    expect(resolveRelaySource(self, lookup(self))).toMatchObject({ ok: false, reason: 'SourceIsSelf' });
    expect(resolveRelaySource(relay({ symbols: ['EUR/USD', 'USD/JPY'] }), lookup(source))).toMatchObject({
      ok: false,
      reason: 'SymbolsNotInSource',
      message: expect.stringMatching(/does not collect USD\/JPY/),
    });
  });

  it('is rendered as a relay collector without a Polygon key, at 0 replicas until resolved', () => {
    const resolved = desiredState(relay(), undefined, { pipelineId: 'markets_fx-collect', tenantId: 'acme' });
    const collector = resolved.objects.find((d) => d.component === 'collector' && d.kind === 'Deployment')!;
    const dep = collector.object as V1Deployment;
    expect(dep.spec!.replicas).toBe(1);
    expect(dep.spec!.template.spec!.containers[0]!.args).toEqual(['relay']);
    expect(collector.secrets).toEqual([]);
    const data = resolved.objects.find((d) => d.kind === 'ConfigMap')!.object as unknown as {
      data: Record<string, string>;
    };
    expect(data.data).toMatchObject({
      RELAY_SOURCE_PIPELINE_ID: 'markets_fx-collect',
      RELAY_SOURCE_TENANT_ID: 'acme',
      PIPELINE_ID: 'markets_fx-relay',
      TENANT_ID: 'globex',
    });
    expect(Object.keys(data.data).filter((k) => k.startsWith('POLYGON_'))).toEqual([]);
    // No REST key: the gap filler is suspended, and reads no Polygon Secret.
    const backfill = resolved.objects.find((d) => d.component === 'backfill')!;
    expect((backfill.object as unknown as V1CronJob).spec!.suspend).toBe(true);
    expect(backfill.secrets.map((s) => s.env)).not.toContain('POLYGON_API_KEY');

    const unresolved = desiredState(relay());
    const waiting = unresolved.objects.find((d) => d.component === 'collector' && d.kind === 'Deployment')!;
    expect((waiting.object as V1Deployment).spec!.replicas).toBe(0);
  });

  it('gives the gap filler a REST key when polygonRest is set', () => {
    const state = desiredState(
      relay({
        source: {
          relay: {
            pipeline: 'fx-collect',
            polygonRest: { apiKeySecretRef: { name: 'polygon', key: 'apiKey' } },
          },
        },
      }),
      undefined,
      { pipelineId: 'markets_fx-collect', tenantId: 'acme' },
    );
    const backfill = state.objects.find((d) => d.component === 'backfill')!;
    expect((backfill.object as unknown as V1CronJob).spec!.suspend).toBe(false);
    expect(backfill.secrets).toContainEqual({
      env: 'POLYGON_API_KEY',
      ref: { name: 'polygon', key: 'apiKey' },
      field: 'spec.source.relay.polygonRest.apiKeySecretRef',
    });
  });
});
