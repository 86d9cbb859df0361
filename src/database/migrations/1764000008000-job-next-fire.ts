import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each job's next scheduled instant, kept by the scheduler, so a start with many jobs builds its
 * heap from SQL instead of computing every schedule; and an index for the scheduler's periodic
 * "changed since" read.
 */
export class JobNextFire1764000008000 implements MigrationInterface {
  name = 'JobNextFire1764000008000';

  async up(db: QueryRunner): Promise<void> {
    await db.query('ALTER TABLE cw_jobs ADD COLUMN next_fire_at timestamptz');
    await db.query('CREATE INDEX cw_jobs_updated_at_idx ON cw_jobs (updated_at)');
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP INDEX cw_jobs_updated_at_idx');
    await db.query('ALTER TABLE cw_jobs DROP COLUMN next_fire_at');
  }
}
