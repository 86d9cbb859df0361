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
    // Whoever moves the anchor or changes the schedule (a fire, an API change, an operator's UPDATE) makes
    // the stored next fire stale; the database forgets it then, unless the same statement sets it.
    await db.query(`
      CREATE FUNCTION cw_jobs_forget_next_fire() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.next_fire_at IS NOT DISTINCT FROM OLD.next_fire_at
           AND (NEW.anchor_at, NEW.cron, NEW.every_ms, NEW.timezone) IS DISTINCT FROM (OLD.anchor_at, OLD.cron, OLD.every_ms, OLD.timezone) THEN
          NEW.next_fire_at := NULL;
        END IF;
        RETURN NEW;
      END $$`);
    await db.query(`CREATE TRIGGER cw_jobs_forget_next_fire BEFORE UPDATE ON cw_jobs FOR EACH ROW EXECUTE FUNCTION cw_jobs_forget_next_fire()`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TRIGGER cw_jobs_forget_next_fire ON cw_jobs');
    await db.query('DROP FUNCTION cw_jobs_forget_next_fire()');
    await db.query('DROP INDEX cw_jobs_updated_at_idx');
    await db.query('ALTER TABLE cw_jobs DROP COLUMN next_fire_at');
  }
}
