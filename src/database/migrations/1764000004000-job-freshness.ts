import type { MigrationInterface, QueryRunner } from 'typeorm';

/** A job's dead-man's switch: how long it may go without a success (null: twice its period). */
export class JobFreshness1764000004000 implements MigrationInterface {
  name = 'JobFreshness1764000004000';

  async up(db: QueryRunner): Promise<void> {
    await db.query('ALTER TABLE cw_jobs ADD COLUMN expect_success_within_ms bigint');
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('ALTER TABLE cw_jobs DROP COLUMN expect_success_within_ms');
  }
}
