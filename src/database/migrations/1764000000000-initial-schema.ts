import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Jobs, runs, run output and nodes. Reviewed SQL; entities must match it (see schema-drift.test.ts). */
export class InitialSchema1764000000000 implements MigrationInterface {
  name = 'InitialSchema1764000000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE cw_jobs (
        id                 text PRIMARY KEY,
        name               text NOT NULL,
        pipeline           text NOT NULL,
        cron               text,
        every_ms           bigint,
        timezone           text NOT NULL DEFAULT 'UTC',
        params             jsonb NOT NULL DEFAULT '{}',
        overlap            text NOT NULL DEFAULT 'skip',
        catchup            text NOT NULL DEFAULT 'once',
        catchup_window_ms  bigint NOT NULL DEFAULT 21600000,
        jitter_ms          bigint NOT NULL DEFAULT 0,
        owner              text NOT NULL,
        source             text NOT NULL,
        enabled            boolean NOT NULL DEFAULT true,
        paused             boolean NOT NULL DEFAULT false,
        pause_note         text,
        paused_by          text,
        paused_at          timestamptz,
        anchor_at          timestamptz,
        version            integer NOT NULL DEFAULT 1,
        created_at         timestamptz NOT NULL DEFAULT now(),
        updated_at         timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT cw_jobs_schedule_check CHECK ((cron IS NULL) <> (every_ms IS NULL)),
        CONSTRAINT cw_jobs_source_check CHECK (source IN ('config', 'api'))
      )`);
    await db.query(`
      CREATE TABLE cw_runs (
        id                   uuid PRIMARY KEY,
        job_id               text NOT NULL REFERENCES cw_jobs(id) ON DELETE CASCADE,
        status               text NOT NULL,
        trigger              text NOT NULL,
        scheduled_for        timestamptz,
        queued_at            timestamptz NOT NULL DEFAULT now(),
        not_before           timestamptz,
        started_at           timestamptz,
        finished_at          timestamptz,
        duration_ms          integer,
        exit_code            integer,
        signal               text,
        attempt              integer NOT NULL DEFAULT 1,
        triggered_by         text,
        node_id              text,
        pid                  integer,
        params               jsonb NOT NULL DEFAULT '{}',
        output_bytes         bigint NOT NULL DEFAULT 0,
        output_dropped_bytes bigint NOT NULL DEFAULT 0,
        output_truncated     boolean NOT NULL DEFAULT false,
        error                text,
        parent_run_id        uuid,
        cancel_requested_at  timestamptz,
        cancel_requested_by  text,
        CONSTRAINT cw_runs_status_check CHECK (status IN
          ('queued', 'running', 'succeeded', 'failed', 'timed_out', 'cancelled', 'abandoned', 'skipped')),
        CONSTRAINT cw_runs_trigger_check CHECK (trigger IN ('schedule', 'manual', 'catchup', 'retry', 'chain'))
      )`);
    // The insert is the lock: one scheduled instant of a job can produce one run, whatever the number of nodes.
    await db.query(`
      CREATE UNIQUE INDEX cw_runs_job_instant_key ON cw_runs (job_id, scheduled_for)
      WHERE trigger IN ('schedule', 'catchup')`);
    await db.query(`CREATE INDEX cw_runs_queued_idx ON cw_runs (queued_at) WHERE status = 'queued'`);
    await db.query(`CREATE INDEX cw_runs_active_idx ON cw_runs (job_id) WHERE status IN ('queued', 'running')`);
    await db.query(`CREATE INDEX cw_runs_job_history_idx ON cw_runs (job_id, queued_at DESC, id DESC)`);
    await db.query(`
      CREATE TABLE cw_run_output (
        run_id  uuid NOT NULL REFERENCES cw_runs(id) ON DELETE CASCADE,
        seq     integer NOT NULL,
        stream  text NOT NULL,
        part    text NOT NULL,
        data    bytea NOT NULL,
        at      timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (run_id, seq),
        CONSTRAINT cw_run_output_stream_check CHECK (stream IN ('stdout', 'stderr')),
        CONSTRAINT cw_run_output_part_check CHECK (part IN ('head', 'tail'))
      )`);
    await db.query(`
      CREATE TABLE cw_nodes (
        id            text PRIMARY KEY,
        hostname      text NOT NULL,
        pid           integer NOT NULL,
        version       text NOT NULL,
        started_at    timestamptz NOT NULL DEFAULT now(),
        heartbeat_at  timestamptz NOT NULL DEFAULT now(),
        stopped_at    timestamptz
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE cw_nodes');
    await db.query('DROP TABLE cw_run_output');
    await db.query('DROP TABLE cw_runs');
    await db.query('DROP TABLE cw_jobs');
  }
}
