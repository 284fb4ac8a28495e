import { describe, expect, it } from '@jest/globals';
import { splitSqlStatements } from './split-statements.js';
import { findSchemasDir, readSchemaFiles } from './schema-files.js';

describe('splitting a ClickHouse schema file into statements', () => {
  it('splits on semicolons and drops comments and empty statements', () => {
    const sql = `-- leading comment; with a semicolon
      CREATE TABLE a (x UInt8) ENGINE = Memory; /* block; comment */
      # hash comment;
      SELECT 1;;
    `;
    expect(splitSqlStatements(sql)).toEqual(['CREATE TABLE a (x UInt8) ENGINE = Memory', 'SELECT 1']);
  });

  it('keeps semicolons and comment markers inside strings and quoted identifiers', () => {
    const sql = `SELECT 'a;b', 'it''s; -- not a comment', 'back\\'slash;', "col;1", \`t;2\`; SELECT 2`;
    expect(splitSqlStatements(sql)).toEqual([
      `SELECT 'a;b', 'it''s; -- not a comment', 'back\\'slash;', "col;1", \`t;2\``,
      'SELECT 2',
    ]);
  });

  it('rejects an unterminated string or comment instead of guessing', () => {
    expect(() => splitSqlStatements("SELECT 'oops; SELECT 2")).toThrow(/unterminated ' quote/);
    expect(() => splitSqlStatements('SELECT 1 /* oops')).toThrow(/unterminated \/\* comment/);
  });

  it('splits the real ClickHouse schema files into their CREATE statements', () => {
    const files = readSchemaFiles(findSchemasDir(), 'clickhouse');
    const statements = files.flatMap((f) => splitSqlStatements(f.sql));
    expect(statements.map((s) => /^CREATE (MATERIALIZED VIEW|VIEW|TABLE) /.exec(s)?.[1])).toEqual([
      'TABLE',
      'TABLE',
      'MATERIALIZED VIEW',
      'VIEW',
      'TABLE',
      'MATERIALIZED VIEW',
      'VIEW',
      // 003_backfill_ledger.sql
      'TABLE',
      'TABLE',
      'TABLE',
      // 004_ticks.sql
      'TABLE',
    ]);
    expect(statements.every((s) => s.includes('IF NOT EXISTS'))).toBe(true);
  });
});
