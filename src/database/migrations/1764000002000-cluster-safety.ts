import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What several nodes need to stay safe: the process identity of a run's child (so a restarted node
 * kills its orphaned group but never a reused pid), at most one retry per run, and an index for
 * the reaper's look at running runs by node and at abandoned runs.
 */
export class ClusterSafety1764000002000 implements MigrationInterface {
  name = 'ClusterSafety1764000002000';

  async up(db: QueryRunner): Promise<void> {
    // "<boot id>:<start time in clock ticks>" from /proc: the pid alone may belong to another process later.
    await db.query(`ALTER TABLE cw_runs ADD COLUMN process_start text`);
    // Whichever node ends a run (or reaps it) queues its retry; the key makes that happen once.
    await db.query(`CREATE UNIQUE INDEX cw_runs_retry_key ON cw_runs (parent_run_id) WHERE trigger = 'retry'`);
    await db.query(`CREATE INDEX cw_runs_running_node_idx ON cw_runs (node_id) WHERE status = 'running'`);
    // Each node looks for its host's orphaned children among abandoned runs on every housekeeping tick.
    await db.query(`CREATE INDEX cw_runs_abandoned_idx ON cw_runs (finished_at) WHERE status = 'abandoned' AND process_start IS NOT NULL`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP INDEX cw_runs_abandoned_idx');
    await db.query('DROP INDEX cw_runs_running_node_idx');
    await db.query('DROP INDEX cw_runs_retry_key');
    await db.query('ALTER TABLE cw_runs DROP COLUMN process_start');
  }
}
