import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The claim as a function that plans with sorts and sequential scans turned off. Without
 * statistics on cw_runs (a new database, a burst of inserts before autovacuum looks, and always on
 * the embedded database, which never analyses) the planner guessed a few queued runs and sorted
 * all of them on every claim: 1.5-2.5 ms with 2,000 queued. The oldest queued runs are the first
 * entries of cw_runs_queued_order_idx, whatever the statistics say. PL/pgSQL keeps the plan for
 * the session. Which runs may start is RunsRepository.claimQueued's contract.
 */
/**
 * The statement creating cw_claim_runs; `orReplace` and `condition` (SQL over the candidate run
 * `q`, ANDed with the others) are for migrations that change it.
 */
export function claimFunction({ orReplace = false, condition = '' } = {}): string {
  return `
      CREATE ${orReplace ? 'OR REPLACE ' : ''}FUNCTION cw_claim_runs(claiming_node text, how_many integer) RETURNS SETOF cw_runs
      LANGUAGE plpgsql VOLATILE ROWS 8
      SET enable_sort = off SET enable_seqscan = off
      AS $$
      BEGIN
        RETURN QUERY
        WITH picked AS (
          SELECT q.id FROM cw_runs q JOIN cw_jobs qj ON qj.id = q.job_id
          WHERE q.status = 'queued' AND (q.not_before IS NULL OR q.not_before <= now())${condition ? `\n            AND ${condition}` : ''}
            AND ((qj.overlap IN ('skip', 'allow') AND q.trigger <> 'catchup')
                 OR (NOT EXISTS (SELECT 1 FROM cw_runs x WHERE x.job_id = q.job_id AND x.status = 'running')
                     -- Only a job's oldest queued run may start, so one claim (or two nodes at once) never starts two.
                     AND NOT EXISTS (SELECT 1 FROM cw_runs y WHERE y.job_id = q.job_id AND y.status = 'queued'
                                     AND (y.queued_at, y.id) < (q.queued_at, q.id))))
          ORDER BY q.queued_at, q.id
          LIMIT how_many
          FOR UPDATE OF q SKIP LOCKED
        )
        UPDATE cw_runs r SET status = 'running', node_id = claiming_node, started_at = now()
        FROM picked p WHERE r.id = p.id
        RETURNING r.*;
      END $$`;
}

export class ClaimFunction1764000010000 implements MigrationInterface {
  name = 'ClaimFunction1764000010000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(claimFunction());
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP FUNCTION cw_claim_runs(text, integer)');
  }
}
