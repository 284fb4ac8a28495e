import { describe, expect, it } from '@jest/globals';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { buildCrd, CRD_FILE, crdYaml, structural } from './generate.js';
import { specSchema } from './spec.js';

const root = process.cwd();

type Doc = { kind?: string; spec?: unknown; metadata?: { name?: string } };

function readDocs(file: string): Doc[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS() as Doc);
}

/** The schema node at a dotted path such as spec.bridge.replicas. */
type SchemaNode = { properties: Record<string, SchemaNode>; [key: string]: unknown };

function schemaAt(pathInSpec: string): SchemaNode {
  const crd = buildCrd() as { spec: { versions: { schema: { openAPIV3Schema: SchemaNode } }[] } };
  let node = crd.spec.versions[0]!.schema.openAPIV3Schema;
  for (const part of pathInSpec.split('.')) node = node.properties[part]!;
  return node;
}

describe('CRD generated from the zod spec', () => {
  it('matches the checked-in crds/ file (run `npm run gen:crd` after changing spec.ts)', () => {
    expect(readFileSync(path.join(root, CRD_FILE), 'utf8')).toBe(crdYaml());
  });

  it('carries defaults, enums, patterns and bounds into the OpenAPI schema', () => {
    expect(schemaAt('spec.timeframes')).toMatchObject({
      default: ['5m', '15m', '30m', '1h', '4h', '1d', '1w'],
      items: { enum: ['5m', '15m', '30m', '1h', '4h', '1d', '1w'] },
      'x-kubernetes-list-type': 'set',
    });
    expect(schemaAt('spec.symbols')).toMatchObject({
      items: { pattern: '^[A-Z]{3}\\/[A-Z]{3}$' },
      minItems: 1,
    });
    expect(schemaAt('spec.bridge.replicas')).toMatchObject({
      type: 'integer',
      minimum: 1,
      maximum: 20,
      default: 1,
    });
    expect(schemaAt('spec.bridge')).toMatchObject({ default: {} });
    expect(schemaAt('spec.source')['x-kubernetes-validations']).toEqual([
      expect.objectContaining({
        rule: '(has(self.polygon) ? 1 : 0) + (has(self.simulator) ? 1 : 0) + (has(self.relay) ? 1 : 0) == 1',
      }),
    ]);
    expect(schemaAt('status.conditions')).toMatchObject({
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
    });
  });

  it('leaves nothing a structural schema refuses', () => {
    const text = JSON.stringify(buildCrd());
    for (const keyword of ['"$schema"', '"anyOf"', '"oneOf"', '"allOf"', '"nullable"', '"$ref"']) {
      expect(text).not.toContain(keyword);
    }
    expect(text).not.toContain(String(Number.MAX_SAFE_INTEGER));
  });

  it('normalises zod output and refuses non-structural constructs', () => {
    expect(
      structural({
        $schema: 'x',
        type: 'object',
        properties: {
          a: { type: 'integer', minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER },
        },
        additionalProperties: false,
      }),
    ).toEqual({ type: 'object', properties: { a: { type: 'integer' } } });
    expect(() => structural({ type: 'object', properties: { a: { anyOf: [{ type: 'string' }] } } })).toThrow(
      "$.a: 'anyOf' is not allowed",
    );
    expect(() => structural({ type: 'object', properties: { a: { description: 'no type' } } })).toThrow(
      '$.a: every node of a structural schema needs a type',
    );
  });
});

describe('examples/', () => {
  const files = readdirSync(path.join(root, 'examples')).filter((f) => f.endsWith('.yaml'));

  it.each(files)('%s holds valid documents', (file) => {
    const docs = readDocs(path.join(root, 'examples', file));
    expect(docs.length).toBeGreaterThan(0);
    for (const doc of docs.filter((d) => d.kind === 'MarketPipeline')) {
      const result = specSchema.safeParse(doc.spec);
      expect(result.error?.issues ?? []).toEqual([]);
      expect((doc.metadata?.name ?? '').length).toBeLessThanOrEqual(37);
    }
  });

  it('cover every source, Kafka, the cache and the tick store', () => {
    const specs = files.flatMap((f) =>
      readDocs(path.join(root, 'examples', f))
        .filter((d) => d.kind === 'MarketPipeline')
        .map((d) => specSchema.parse(d.spec)),
    );
    expect(specs.some((s) => s.source.polygon)).toBe(true);
    expect(specs.some((s) => s.source.simulator)).toBe(true);
    expect(specs.some((s) => s.source.relay)).toBe(true);
    expect(specs.some((s) => s.kafka)).toBe(true);
    expect(specs.some((s) => s.cache)).toBe(true);
    expect(specs.some((s) => s.clickhouse.ticks.enabled)).toBe(true);
  });
});

describe('invalid fixtures', () => {
  const dir = path.join(root, 'operator/test/fixtures/invalid');
  const fixtures = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => {
      const text = readFileSync(path.join(dir, f), 'utf8');
      const header = (key: string) => new RegExp(`^# ${key}: (.*)$`, 'm').exec(text)?.[1];
      return {
        file: f,
        field: header('field')!,
        checkedBy: header('checked-by')!,
        doc: readDocs(path.join(dir, f))[0]!,
      };
    });

  it('each names the field and the layer that refuses it', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(10);
    for (const f of fixtures) {
      expect(f.field).toMatch(/^(spec|metadata)/);
      expect(['schema', 'cel']).toContain(f.checkedBy);
    }
  });

  // Rules of the OpenAPI schema itself (types, patterns, enums, bounds, required) come from
  // zod, so zod refuses the same documents at the same path. CEL rules run only in the API
  // server: the integration test checks those (and these) against a real one.
  it.each(fixtures.filter((f) => f.checkedBy === 'schema').map((f) => [f.file, f] as const))(
    '%s is refused by the schema at its field',
    (_file, f) => {
      const result = specSchema.safeParse(f.doc.spec);
      expect(result.success).toBe(false);
      const paths = result.error!.issues.map((i) =>
        ['spec', ...i.path].join('.').replace(/\.(\d+)/g, '[$1]'),
      );
      expect(paths).toContain(f.field);
    },
  );
});
