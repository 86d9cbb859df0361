import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createCancellingTrigger, SCHEDULE_CHANGED, STAGED_RUNS_FOLLOW } from './1764000011000-staged-runs.js';

/**
 * A change of a job before the instant of its staged run undoes the staging instead of cancelling
 * the run (StagedRuns1764000011000 did): the run is deleted and the job's anchor goes back to
 * just before that instant, as if the run had never been staged. Paused, the job then misses the
 * instant the way a paused job always did (its catch-up policy decides on resume); resumed before
 * it, or rescheduled onto it, the instant still fires. A cancelled run kept the (job, instant) key
 * and the anchor past the instant, so either of those lost it.
 *
 * Before the update, so the anchor moves in the same row version. Anchor semantics: instants up
 * to the anchor are handled. A cron job's previous instant is not known here, but no instant lies
 * between it and the staged one, so a millisecond before the staged instant is the same anchor to
 * the schedule; an interval job's instants are anchor + k × every, so its anchor goes back by one
 * interval (of the schedule the instant was staged under). The anchor is left alone when the
 * statement sets it (an API schedule change counts from now) or when it no longer is the staged
 * instant's. The stored next fire, made stale by the move, is forgotten
 * (cw_jobs_forget_next_fire ran before this trigger: names order BEFORE triggers).
 */
export class StagedRunsUndone1764000012000 implements MigrationInterface {
  name = 'StagedRunsUndone1764000012000';

  async up(db: QueryRunner): Promise<void> {
    await db.query('DROP TRIGGER cw_jobs_staged_runs ON cw_jobs');
    await db.query('DROP FUNCTION cw_jobs_settle_staged_runs()');
    await db.query(`
      CREATE FUNCTION cw_jobs_unstage_runs() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        first_staged timestamptz;
      BEGIN
        IF NOT NEW.enabled OR NEW.paused OR ${SCHEDULE_CHANGED} THEN
          WITH unstaged AS (
            DELETE FROM cw_runs
            WHERE job_id = NEW.id AND status = 'queued' AND trigger = 'schedule' AND queued_at > now()
            RETURNING scheduled_for
          )
          SELECT min(scheduled_for) INTO first_staged FROM unstaged;
          IF first_staged IS NOT NULL AND NEW.anchor_at IS NOT DISTINCT FROM OLD.anchor_at AND OLD.anchor_at >= first_staged THEN
            NEW.anchor_at := CASE
              WHEN OLD.every_ms IS NOT NULL THEN first_staged - make_interval(secs => OLD.every_ms / 1000.0)
              ELSE first_staged - interval '1 millisecond'
            END;
            NEW.next_fire_at := NULL;
          END IF;
        ELSE
          UPDATE cw_runs SET params = NEW.params
          WHERE job_id = NEW.id AND status = 'queued' AND trigger = 'schedule' AND queued_at > now();
        END IF;
        RETURN NEW;
      END $$`);
    await db.query(`
      CREATE TRIGGER cw_jobs_unstage_runs BEFORE UPDATE ON cw_jobs FOR EACH ROW
      WHEN (${STAGED_RUNS_FOLLOW})
      EXECUTE FUNCTION cw_jobs_unstage_runs()`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TRIGGER cw_jobs_unstage_runs ON cw_jobs');
    await db.query('DROP FUNCTION cw_jobs_unstage_runs()');
    await createCancellingTrigger(db);
  }
}
