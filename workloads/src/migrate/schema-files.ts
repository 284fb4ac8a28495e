// The schema files: schemas/<database>/*.sql, read in file-name order with their sha256.
// The folder is found from SCHEMAS_DIR, or by walking up from this module, which finds
// <repo>/schemas from both workloads/src (tests) and dist/workloads/src (the built CLI,
// and the image, which copies schemas/ next to dist/).
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type SchemaDatabase = 'timescaledb' | 'clickhouse';

export interface SchemaFile {
  /** File name, e.g. 001_market_ticks.sql: the ledger key. */
  name: string;
  sql: string;
  sha256: string;
}

export function findSchemasDir(explicit = process.env.SCHEMAS_DIR): string {
  if (explicit) {
    if (!existsSync(path.join(explicit, 'timescaledb'))) {
      throw new Error(`SCHEMAS_DIR=${explicit} has no timescaledb/ folder`);
    }
    return explicit;
  }
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'schemas');
    if (existsSync(path.join(candidate, 'timescaledb')) && existsSync(path.join(candidate, 'clickhouse'))) {
      return candidate;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('schemas/ folder not found above the package; set SCHEMAS_DIR');
    dir = parent;
  }
}

export function readSchemaFiles(schemasDir: string, database: SchemaDatabase): SchemaFile[] {
  const dir = path.join(schemasDir, database);
  return readdirSync(dir)
    .filter((name) => name.endsWith('.sql'))
    .sort()
    .map((name) => {
      const sql = readFileSync(path.join(dir, name), 'utf8');
      return { name, sql, sha256: createHash('sha256').update(sql).digest('hex') };
    });
}
