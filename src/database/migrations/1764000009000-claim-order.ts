import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The claim takes the oldest queued runs, ordered by (queued_at, id). An index in that order lets
 * it read only as many runs as it claims; the index on queued_at alone made it sort every queued
 * run first, so a burst of a thousand queued runs cost each claim a thousand rows.
 */
export class ClaimOrder1764000009000 implements MigrationInterface {
  name = 'ClaimOrder1764000009000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE INDEX cw_runs_queued_order_idx ON cw_runs (queued_at, id) WHERE status = 'queued'`);
    await db.query('DROP INDEX cw_runs_queued_idx');
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`CREATE INDEX cw_runs_queued_idx ON cw_runs (queued_at) WHERE status = 'queued'`);
    await db.query('DROP INDEX cw_runs_queued_order_idx');
  }
}
