import { describe, expect, it } from '@jest/globals';
import { readExample, scenarioManifest } from '../scenario.js';
import { adaptExampleToKind, parseJsonRows } from './kind-target.js';

describe('the kind target', () => {
  it("applies the example without its Secrets (the chart's dev servers own them), on the loaded image", () => {
    const example = scenarioManifest(readExample(process.cwd()));
    const adapted = adaptExampleToKind(example, {
      repository: 'ghcr.io/suho/market-pipeline-workloads',
      tag: 'e2e-abc',
    });
    expect(adapted.map((o) => o.kind)).toEqual(['MarketPipeline']);
    const original = example.find((o) => o.kind === 'MarketPipeline')!;
    expect(adapted[0]!.spec).toEqual({
      ...(original.spec as object),
      image: { repository: 'ghcr.io/suho/market-pipeline-workloads', tag: 'e2e-abc', pullPolicy: 'Never' },
    });
  });

  it("reads psql's JSON array and clickhouse-client's JSONEachRow", () => {
    expect(parseJsonRows('[{"symbol":"EUR/USD","ticks":3}]\n')).toEqual([{ symbol: 'EUR/USD', ticks: 3 }]);
    expect(parseJsonRows('{"a":"1"}\n{"a":"2"}\n')).toEqual([{ a: '1' }, { a: '2' }]);
    expect(parseJsonRows('\n')).toEqual([]);
  });
});
