import type { MigrationInterface, QueryRunner } from 'typeorm';
import { claimFunction } from './1764000010000-claim-function.js';

/** A staged run's queued_at is its instant: as an index condition, the claim's scan ends at the runs not due yet. */
const CLAIM_DUE_ONLY = 'q.queued_at <= now()';

/** The job's schedule (when it fires) differs between OLD and NEW. */
export const SCHEDULE_CHANGED = `NEW.cron IS DISTINCT FROM OLD.cron OR NEW.every_ms IS DISTINCT FROM OLD.every_ms
  OR NEW.timezone IS DISTINCT FROM OLD.timezone OR NEW.jitter_ms IS DISTINCT FROM OLD.jitter_ms`;

/** A change of an active job that its staged runs must follow: it stops, fires otherwise, or has new params. */
export const STAGED_RUNS_FOLLOW = `OLD.enabled AND NOT OLD.paused
  AND (NOT NEW.enabled OR NEW.paused OR ${SCHEDULE_CHANGED} OR NEW.params IS DISTINCT FROM OLD.params)`;

/** This migration's trigger: staged runs cancelled by a change of their job (StagedRunsUndone1764000012000 replaces it). */
export async function createCancellingTrigger(db: QueryRunner): Promise<void> {
  await db.query(`
    CREATE FUNCTION cw_jobs_settle_staged_runs() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NOT NEW.enabled OR NEW.paused OR ${SCHEDULE_CHANGED} THEN
        UPDATE cw_runs SET status = 'cancelled', finished_at = now(), error = CASE
            WHEN NOT NEW.enabled THEN 'the job was disabled or deleted before this instant'
            WHEN NEW.paused THEN 'the job was paused before this instant'
            ELSE 'the job''s schedule changed before this instant'
          END
        WHERE job_id = NEW.id AND status = 'queued' AND trigger = 'schedule' AND queued_at > now();
      ELSE
        UPDATE cw_runs SET params = NEW.params
        WHERE job_id = NEW.id AND status = 'queued' AND trigger = 'schedule' AND queued_at > now();
      END IF;
      RETURN NULL;
    END $$`);
  await db.query(`
    CREATE TRIGGER cw_jobs_staged_runs AFTER UPDATE ON cw_jobs FOR EACH ROW
    WHEN (${STAGED_RUNS_FOLLOW})
    EXECUTE FUNCTION cw_jobs_settle_staged_runs()`);
}

/**
 * Staged runs: the scheduler records a run shortly before its instant, queued with `queued_at`
 * (and `not_before`) set to the instant, so that at the instant nothing is left to write and
 * every node's executor can claim it at once (RunsRepository.stageMany). Two things follow:
 *
 * - The claim leaves runs whose queued_at is still ahead; in queued_at order they are the last
 *   entries of cw_runs_queued_order_idx, so the scan stops where they begin.
 * - A staged run belongs to the job as it was: pausing, disabling or deleting the job, or
 *   changing when it fires, cancels it (with the reason); changing its params updates it. A
 *   trigger does it in the statement that changes the job, whichever path (API, config file,
 *   another node) that is, so no staged run outlives the change that should have stopped it.
 */
export class StagedRuns1764000011000 implements MigrationInterface {
  name = 'StagedRuns1764000011000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(claimFunction({ orReplace: true, condition: CLAIM_DUE_ONLY }));
    await createCancellingTrigger(db);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TRIGGER cw_jobs_staged_runs ON cw_jobs');
    await db.query('DROP FUNCTION cw_jobs_settle_staged_runs()');
    await db.query(claimFunction({ orReplace: true }));
  }
}
