import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Ending runs as a function whose statement keeps one plan. As a prepared statement, the UPDATE
 * over unnest(…) of the runs that ended was planned anew at every execution: the plan cache weighs
 * the generic plan (estimated for ten entries, as it cannot see the arrays) against the custom
 * plans (for the two or three entries a finish has) and kept choosing custom ones. Planning took
 * 0.3–0.5 ms of each finish-and-claim's 1.2–1.4 on the embedded database (docs/performance.md,
 * item 42). In a PL/pgSQL function set to force_generic_plan the statement is planned once per
 * session, to the plan the custom ones had: an index lookup per entry.
 *
 * The parameters are one array per field, an element per run, in the order of
 * RunsRepository's finishParams; a run no longer running is left as it is. They are referred to
 * by position: named after the fields, they would be ambiguous with the columns of the same names.
 */
export class FinishFunction1764000014000 implements MigrationInterface {
  name = 'FinishFunction1764000014000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE FUNCTION cw_finish_runs(uuid[], text[], timestamptz[], bigint[], integer[], text[], text[], bigint[], bigint[],
                                     boolean[], bigint[], double precision[], integer[], text[]) RETURNS SETOF cw_runs
      LANGUAGE plpgsql VOLATILE ROWS 8
      SET plan_cache_mode = force_generic_plan
      AS $$
      BEGIN
        RETURN QUERY
        UPDATE cw_runs r SET status = e.status, finished_at = e.finished_at, duration_ms = e.duration_ms, exit_code = e.exit_code,
          signal = e.signal, error = COALESCE(e.error, r.error), output_bytes = e.output_bytes,
          output_dropped_bytes = e.output_dropped_bytes, output_truncated = e.output_truncated,
          peak_rss_bytes = e.peak_rss_bytes, cpu_seconds = e.cpu_seconds,
          pid = COALESCE(r.pid, e.pid), process_start = COALESCE(r.process_start, e.process_start)
        FROM unnest($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
          AS e(id, status, finished_at, duration_ms, exit_code, signal, error, output_bytes, output_dropped_bytes,
               output_truncated, peak_rss_bytes, cpu_seconds, pid, process_start)
        WHERE r.id = e.id AND r.status = 'running'
        RETURNING r.*;
      END $$`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP FUNCTION cw_finish_runs(uuid[], text[], timestamptz[], bigint[], integer[], text[], text[], bigint[], bigint[], boolean[], bigint[], double precision[], integer[], text[])');
  }
}
