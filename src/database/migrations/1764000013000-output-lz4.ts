import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Stored output compressed with lz4 where the server has it (PostgreSQL 14 and later built with
 * lz4, as Debian's packages and the official images are), pglz elsewhere (PGlite, older servers).
 * pglz took 26–32 ms of the server's CPU to store a 5 MiB part of a run's output, lz4 12 ms, and
 * lz4's copy of a log was half the size; 100 children writing 10 MiB each were stored 20–25 %
 * faster (docs/performance.md, item 31). Rows written before keep pglz: both read alike.
 */
export class OutputLz41764000013000 implements MigrationInterface {
  name = 'OutputLz41764000013000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(setCompression('lz4'));
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(setCompression('default'));
  }
}

/** A no-op where the method is not built in (feature_not_supported) or the syntax unknown (before PostgreSQL 14). */
function setCompression(method: 'lz4' | 'default'): string {
  return `DO $$ BEGIN
      EXECUTE 'ALTER TABLE cw_run_output ALTER COLUMN data SET COMPRESSION ${method}';
    EXCEPTION WHEN feature_not_supported OR syntax_error THEN NULL;
    END $$`;
}
