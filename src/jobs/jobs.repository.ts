import { Injectable } from '@nestjs/common';
import type { JobConfig } from '../config/config.types.js';
import { Database } from '../database/database.js';
import type { JobDefinition } from './job-definition.js';
import type { JobEntity } from './job.entity.js';

/** A job row as the SQL below returns it (camelCase aliases of `cw_jobs`). */
export type JobRow = JobEntity;

/** What the scheduler needs of a job. */
export type ScheduleRow = Pick<JobRow, 'id' | 'cron' | 'everyMs' | 'timezone' | 'catchup' | 'overlap' | 'catchupWindowMs' | 'jitterMs'
  | 'enabled' | 'paused' | 'anchorAt' | 'nextFireAt' | 'version' | 'createdAt'>;

export interface JobFilter {
  /** Only jobs this owner may see: their own plus system jobs. Null = all (admin). */
  visibleTo: string | null;
  owner?: string;
  paused?: boolean;
  pipeline?: string;
}

const JOB_COLUMNS = `
  j.id, j.name, j.pipeline, j.cron, j.every_ms AS "everyMs", j.timezone, j.params, j.overlap, j.catchup,
  j.catchup_window_ms AS "catchupWindowMs", j.jitter_ms AS "jitterMs", j.owner, j.source, j.enabled, j.paused,
  j.pause_note AS "pauseNote", j.paused_by AS "pausedBy", j.paused_at AS "pausedAt", j.anchor_at AS "anchorAt",
  j.next_fire_at AS "nextFireAt",
  j.version, j.created_at AS "createdAt", j.updated_at AS "updatedAt", j.expect_success_within_ms AS "expectSuccessWithinMs"`;

/** SQL for `cw_jobs`. */
@Injectable()
export class JobsRepository {
  constructor(private readonly db: Database) {}

  /**
   * Inserts or updates jobs from the config file, all in one statement. The file wins for the
   * definition; the paused state, the schedule anchor and the history stay as the database has
   * them, and so does the next fire unless cron, every or timezone changed. Returns the ids
   * written: an id missing from it belongs to a job created through the API (the caller decides
   * what that means).
   */
  async upsertConfigJobs(jobs: JobConfig[]): Promise<string[]> {
    if (jobs.length === 0) return [];
    const column = <T>(value: (job: JobConfig) => T): T[] => jobs.map(value);
    const rows = await this.db.rows<{ id: string }>(
      `INSERT INTO cw_jobs AS j (id, name, pipeline, cron, every_ms, timezone, params, overlap, catchup,
         catchup_window_ms, jitter_ms, owner, source, paused, expect_success_within_ms)
       SELECT c.id, c.name, c.pipeline, c.cron, c.every_ms, c.timezone, c.params::jsonb, c.overlap, c.catchup,
              c.catchup_window_ms, c.jitter_ms, 'system', 'config', c.paused, c.expect_success_within_ms
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::text[],
                   $10::bigint[], $11::bigint[], $12::boolean[], $13::bigint[])
         AS c(id, name, pipeline, cron, every_ms, timezone, params, overlap, catchup, catchup_window_ms, jitter_ms, paused, expect_success_within_ms)
       ON CONFLICT (id) DO UPDATE SET
         name = EXCLUDED.name, pipeline = EXCLUDED.pipeline, cron = EXCLUDED.cron, every_ms = EXCLUDED.every_ms,
         timezone = EXCLUDED.timezone, params = EXCLUDED.params, overlap = EXCLUDED.overlap,
         catchup = EXCLUDED.catchup, catchup_window_ms = EXCLUDED.catchup_window_ms, jitter_ms = EXCLUDED.jitter_ms,
         expect_success_within_ms = EXCLUDED.expect_success_within_ms, enabled = true, version = j.version + 1, updated_at = now()
       WHERE j.source = 'config'
       RETURNING j.id`,
      [column((job) => job.id), column((job) => job.name), column((job) => job.pipeline), column((job) => job.cron),
        column((job) => job.everyMs), column((job) => job.timezone), column((job) => JSON.stringify(job.params)),
        column((job) => job.overlap), column((job) => job.catchup), column((job) => job.catchupWindowMs), column((job) => job.jitterMs),
        column((job) => job.paused), column((job) => job.expectSuccessWithinMs)],
    );
    return rows.map((row) => row.id);
  }

  /** Disables config jobs no longer in the file; their history stays. Returns the ids disabled. */
  async disableConfigJobsExcept(ids: string[]): Promise<string[]> {
    const rows = await this.db.rows<{ id: string }>(
      `UPDATE cw_jobs SET enabled = false, version = version + 1, updated_at = now()
       WHERE source = 'config' AND enabled AND NOT (id = ANY($1::text[])) RETURNING id`,
      [ids],
    );
    return rows.map((row) => row.id);
  }

  async findById(id: string): Promise<JobRow | null> {
    return this.db.preparedOne<JobRow>(`SELECT ${JOB_COLUMNS} FROM cw_jobs j WHERE j.id = $1`, [id]);
  }

  /** Every enabled, unpaused job's schedule: what the scheduler loads at start (only the columns it needs). */
  async findSchedules(): Promise<ScheduleRow[]> {
    return this.db.rows<ScheduleRow>(
      `SELECT j.id, j.cron, j.every_ms AS "everyMs", j.timezone, j.catchup, j.overlap, j.catchup_window_ms AS "catchupWindowMs",
         j.jitter_ms AS "jitterMs", j.enabled, j.paused, j.anchor_at AS "anchorAt", j.next_fire_at AS "nextFireAt", j.version,
         j.created_at AS "createdAt"
       FROM cw_jobs j WHERE j.enabled AND NOT j.paused`,
    );
  }

  /**
   * Stores next fires the scheduler computed, each only while the job's anchor is still the one it
   * was computed from (another node may have fired the job meanwhile). Not a change of the job:
   * neither its version nor updated_at moves.
   */
  async storeNextFires(entries: { id: string; anchor: Date | null; next: Date | null }[]): Promise<void> {
    if (entries.length === 0) return;
    await this.db.rows(
      `UPDATE cw_jobs j SET next_fire_at = e.next
       FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[]) AS e(id, anchor, next)
       WHERE j.id = e.id AND j.anchor_at IS NOT DISTINCT FROM e.anchor`,
      [entries.map((e) => e.id), entries.map((e) => e.anchor), entries.map((e) => e.next)],
    );
  }

  /** Jobs changed since an instant, disabled and paused ones included (so a scheduler can drop them). */
  async findChangedSince(since: Date): Promise<JobRow[]> {
    return this.db.rows<JobRow>(`SELECT ${JOB_COLUMNS} FROM cw_jobs j WHERE j.updated_at > $1`, [since]);
  }

  /**
   * The jobs the filter lets through, in id order; with `page`, at most `limit` of them after the id
   * `after`. The order is the primary key's, so a page is a range scan of its index, never a sort
   * of the whole table.
   */
  async list(filter: JobFilter, page?: { after: string | null; limit: number }): Promise<JobRow[]> {
    return this.db.rows<JobRow>(
      `SELECT ${JOB_COLUMNS} FROM cw_jobs j
       WHERE j.enabled
         AND ($1::text IS NULL OR j.owner = $1 OR j.owner = 'system')
         AND ($2::text IS NULL OR j.owner = $2)
         AND ($3::boolean IS NULL OR j.paused = $3)
         AND ($4::text IS NULL OR j.pipeline = $4)
         -- COALESCE rather than "IS NULL OR": an index condition even in a generic plan ('' sorts first).
         AND j.id > COALESCE($5::text, '')
       ORDER BY j.id
       LIMIT $6::integer`,
      [filter.visibleTo, filter.owner ?? null, filter.paused ?? null, filter.pipeline ?? null, page?.after ?? null, page?.limit ?? null],
    );
  }

  /** Pauses or resumes; returns the updated row, or null if the job does not exist. */
  async setPaused(id: string, paused: boolean, by: string, note: string | null): Promise<JobRow | null> {
    return this.db.one<JobRow>(
      `UPDATE cw_jobs j SET paused = $2, pause_note = CASE WHEN $2 THEN $4 ELSE NULL END,
         paused_by = CASE WHEN $2 THEN $3 ELSE NULL END, paused_at = CASE WHEN $2 THEN now() ELSE NULL END,
         version = version + 1, updated_at = now()
       WHERE j.id = $1 RETURNING ${JOB_COLUMNS}`,
      [id, paused, by, note],
    );
  }

  /**
   * Inserts a job created through the API. An API job deleted earlier gives its id up, history
   * and all, unless one of its runs is still active. Returns null when the id is taken.
   */
  async insertApiJob(id: string, job: JobDefinition): Promise<JobRow | null> {
    return this.db.transaction(async (runner) => {
      await this.db.rows(
        `DELETE FROM cw_jobs j WHERE j.id = $1 AND j.source = 'api' AND NOT j.enabled
           AND NOT EXISTS (SELECT 1 FROM cw_runs r WHERE r.job_id = j.id AND r.status IN ('queued', 'running'))`,
        [id], runner,
      );
      return this.db.one<JobRow>(
        `INSERT INTO cw_jobs AS j (id, name, pipeline, cron, every_ms, timezone, params, overlap, catchup,
           catchup_window_ms, jitter_ms, owner, source)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'api')
         ON CONFLICT (id) DO NOTHING
         RETURNING ${JOB_COLUMNS}`,
        [id, ...definitionValues(job)], runner,
      );
    });
  }

  /**
   * Replaces an API job's definition if it is still at `version` (a concurrent change makes this
   * return null). A new schedule counts from now: instants of it before the change are not "missed".
   */
  async updateApiJob(id: string, version: number, job: JobDefinition, scheduleChanged: boolean): Promise<JobRow | null> {
    return this.db.one<JobRow>(
      `UPDATE cw_jobs j SET name = $3, pipeline = $4, cron = $5, every_ms = $6, timezone = $7, params = $8,
         overlap = $9, catchup = $10, catchup_window_ms = $11, jitter_ms = $12, owner = $13,
         anchor_at = CASE WHEN $14 THEN now() ELSE j.anchor_at END, version = j.version + 1, updated_at = now()
       WHERE j.id = $1 AND j.version = $2 AND j.source = 'api' AND j.enabled
       RETURNING ${JOB_COLUMNS}`,
      [id, version, ...definitionValues(job), scheduleChanged],
    );
  }

  /** Deletes an API job: it stops being listed or fired; its runs stay readable until the id is reused. */
  async markDeleted(id: string): Promise<JobRow | null> {
    return this.db.one<JobRow>(
      `UPDATE cw_jobs j SET enabled = false, version = j.version + 1, updated_at = now()
       WHERE j.id = $1 AND j.source = 'api' AND j.enabled RETURNING ${JOB_COLUMNS}`,
      [id],
    );
  }
}

function definitionValues(job: JobDefinition): unknown[] {
  return [job.name, job.pipeline, job.cron, job.everyMs, job.timezone, JSON.stringify(job.params), job.overlap,
    job.catchup, job.catchupWindowMs, job.jitterMs, job.owner];
}
