// What both halves of `migrate` share: the record of an applied file and the error that
// names every way a live database differs from what the code relies on.
//
// Ledger rule (both databases keep a `schema_migrations` table: file, sha256, applied_at):
// a file recorded with its current checksum is skipped; a new file, or a file whose
// checksum changed, is applied and recorded (one more row). Re-applying is safe because
// every statement in schemas/ is idempotent (IF NOT EXISTS, guarded DO blocks), but an
// IF NOT EXISTS statement does not alter an existing object: a change to a table belongs
// in a new file (schemas are append-only), and the verify step that follows every run
// catches a live table that differs from what the code relies on.

export interface AppliedFile {
  file: string;
  sha256: string;
  /** True when an earlier version of the file had been applied before. */
  changed: boolean;
}

export class SchemaDriftError extends Error {
  constructor(
    readonly database: 'PostgreSQL' | 'ClickHouse',
    readonly problems: string[],
  ) {
    super(`${database} schema differs from schemas/:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'SchemaDriftError';
  }
}
