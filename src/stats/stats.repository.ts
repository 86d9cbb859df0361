import { Injectable } from '@nestjs/common';
import { Database } from '../database/database.js';

/** How many of each job's latest runs the statistics cover. */
export const STATS_WINDOW = 100;

/** Aggregates over a set of runs, as SQL returns them; `jobId` is null on the total row. */
export interface StatsRow {
  jobId: string | null;
  runs: number;
  queued: number;
  running: number;
  succeeded: number;
  failed: number;
  timedOut: number;
  cancelled: number;
  abandoned: number;
  skipped: number;
  p50DurationMs: number | null;
  p95DurationMs: number | null;
  meanLatenessMs: number | null;
}

/**
 * Aggregates over the latest runs of each job the `jobs` CTE selects, per job and, `withTotal`, in total.
 * Each job's window comes from the (job_id, queued_at DESC, id DESC) index: the cost grows with
 * the number of jobs times the window, not with the length of the history.
 */
const statsSql = (jobsSelect: string, withTotal: boolean) => `
  WITH jobs AS (${jobsSelect}), recent AS (
    SELECT jobs.id AS job_id, r.status, r.duration_ms, r.started_at, r.scheduled_for, r.trigger
    FROM jobs CROSS JOIN LATERAL (
      SELECT x.status, x.duration_ms, x.started_at, x.scheduled_for, x.trigger FROM cw_runs x
      WHERE x.job_id = jobs.id ORDER BY x.queued_at DESC, x.id DESC LIMIT ${STATS_WINDOW}) r
  )
  SELECT job_id AS "jobId", count(*)::int AS runs,
    count(*) FILTER (WHERE status = 'queued')::int AS queued,
    count(*) FILTER (WHERE status = 'running')::int AS running,
    count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded,
    count(*) FILTER (WHERE status = 'failed')::int AS failed,
    count(*) FILTER (WHERE status = 'timed_out')::int AS "timedOut",
    count(*) FILTER (WHERE status = 'cancelled')::int AS cancelled,
    count(*) FILTER (WHERE status = 'abandoned')::int AS abandoned,
    count(*) FILTER (WHERE status = 'skipped')::int AS skipped,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) FILTER (WHERE duration_ms IS NOT NULL AND status <> 'skipped') AS "p50DurationMs",
    percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) FILTER (WHERE duration_ms IS NOT NULL AND status <> 'skipped') AS "p95DurationMs",
    (avg(EXTRACT(EPOCH FROM started_at - scheduled_for) * 1000) FILTER (WHERE trigger = 'schedule' AND started_at IS NOT NULL))::float8
      AS "meanLatenessMs"
  FROM recent
  GROUP BY ${withTotal ? 'GROUPING SETS ((job_id), ())' : 'job_id'}`;

/** Run statistics computed in SQL. */
@Injectable()
export class StatsRepository {
  constructor(private readonly db: Database) {}

  /** Per job over its latest runs, plus a total row (jobId null), for the jobs visible to `visibleTo` (null: all). */
  async forVisibleJobs(visibleTo: string | null): Promise<StatsRow[]> {
    return this.db.rows<StatsRow>(
      statsSql(`SELECT j.id FROM cw_jobs j WHERE j.enabled AND ($1::text IS NULL OR j.owner = $1 OR j.owner = 'system')`, true),
      [visibleTo],
    );
  }

  /** Per job over its latest runs, for the jobs `ids` (one page of them); a job without runs has no row. */
  async forJobs(ids: string[]): Promise<StatsRow[]> {
    return this.db.rows<StatsRow>(statsSql('SELECT unnest($1::text[]) AS id', false), [ids]);
  }

  /** One job's statistics over its latest runs. */
  async forJob(jobId: string): Promise<StatsRow | null> {
    const rows = await this.db.rows<StatsRow>(statsSql('SELECT $1::text AS id', false), [jobId]);
    return rows[0] ?? null;
  }
}
