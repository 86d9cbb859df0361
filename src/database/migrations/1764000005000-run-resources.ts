import type { MigrationInterface, QueryRunner } from 'typeorm';

/** What a run's process group used: peak resident memory and CPU time, sampled from /proc. */
export class RunResources1764000005000 implements MigrationInterface {
  name = 'RunResources1764000005000';

  async up(db: QueryRunner): Promise<void> {
    await db.query('ALTER TABLE cw_runs ADD COLUMN peak_rss_bytes bigint, ADD COLUMN cpu_seconds double precision');
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('ALTER TABLE cw_runs DROP COLUMN peak_rss_bytes, DROP COLUMN cpu_seconds');
  }
}
