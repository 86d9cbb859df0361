import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The audit log of API changes: who did what to which job or run, and when. */
export class AuditLog1764000001000 implements MigrationInterface {
  name = 'AuditLog1764000001000';

  async up(db: QueryRunner): Promise<void> {
    // No foreign keys: an entry outlives the job or run it names.
    await db.query(`
      CREATE TABLE cw_audit (
        id       uuid PRIMARY KEY,
        at       timestamptz NOT NULL DEFAULT now(),
        actor    text NOT NULL,
        action   text NOT NULL,
        job_id   text,
        run_id   uuid,
        details  jsonb NOT NULL DEFAULT '{}',
        CONSTRAINT cw_audit_action_check CHECK (action IN
          ('job.create', 'job.update', 'job.delete', 'job.pause', 'job.resume', 'job.trigger', 'run.cancel'))
      )`);
    await db.query(`CREATE INDEX cw_audit_at_idx ON cw_audit (at DESC, id DESC)`);
    await db.query(`CREATE INDEX cw_audit_job_idx ON cw_audit (job_id, at DESC)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE cw_audit');
  }
}
