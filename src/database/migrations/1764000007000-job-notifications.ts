import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Deliveries about a job rather than a run (`late`): once per job, URL, event and episode. */
export class JobNotifications1764000007000 implements MigrationInterface {
  name = 'JobNotifications1764000007000';

  async up(db: QueryRunner): Promise<void> {
    await db.query('ALTER TABLE cw_notifications ALTER COLUMN run_id DROP NOT NULL');
    await db.query('ALTER TABLE cw_notifications ADD COLUMN job_id text, ADD COLUMN episode text');
    await db.query(`CREATE UNIQUE INDEX cw_notifications_job_episode_key ON cw_notifications (job_id, url, event, episode) WHERE run_id IS NULL`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP INDEX cw_notifications_job_episode_key');
    await db.query('ALTER TABLE cw_notifications DROP COLUMN job_id, DROP COLUMN episode');
    await db.query('DELETE FROM cw_notifications WHERE run_id IS NULL');
    await db.query('ALTER TABLE cw_notifications ALTER COLUMN run_id SET NOT NULL');
  }
}
