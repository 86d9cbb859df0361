import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Webhook deliveries: one row per run, URL and event, retried with backoff until delivered or given up. */
export class Notifications1764000003000 implements MigrationInterface {
  name = 'Notifications1764000003000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE cw_notifications (
        id               uuid PRIMARY KEY,
        run_id           uuid NOT NULL REFERENCES cw_runs(id) ON DELETE CASCADE,
        url              text NOT NULL,
        event            text NOT NULL,
        status           text NOT NULL DEFAULT 'pending',
        payload          jsonb NOT NULL,
        secret           text,
        attempts         integer NOT NULL DEFAULT 0,
        next_attempt_at  timestamptz NOT NULL DEFAULT now(),
        last_error       text,
        delivered_at     timestamptz,
        created_at       timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT cw_notifications_status_check CHECK (status IN ('pending', 'delivered', 'failed'))
      )`);
    // Every node hears that a run finished; this key makes the delivery happen once.
    await db.query(`CREATE UNIQUE INDEX cw_notifications_run_url_event_key ON cw_notifications (run_id, url, event)`);
    await db.query(`CREATE INDEX cw_notifications_due_idx ON cw_notifications (next_attempt_at) WHERE status = 'pending'`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE cw_notifications');
  }
}
