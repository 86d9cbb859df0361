import { Injectable } from '@nestjs/common';
import { Database } from '../database/database.js';
import type { FollowedChunk } from './output-follower.js';
import type { RunStatus, RunTrigger } from './run.entity.js';
import type { PageCursor } from './page-cursor.js';
import { RUN_COLUMNS, type RunRow } from './runs.repository.js';

export interface RunFilter {
  /** Only runs of jobs this subject may see: their own and the system's. Null = all (admin). */
  visibleTo: string | null;
  jobId?: string;
  statuses?: RunStatus[];
  triggers?: RunTrigger[];
  /** Queued at or after this instant. */
  since?: Date;
}

/** Reading runs across jobs (GET /api/cron/runs) and following a run's output as it is stored. */
@Injectable()
export class RunHistoryRepository {
  constructor(private readonly db: Database) {}

  /**
   * One page of runs, newest first. Keyset pagination on (queued_at, id): runs queued while a
   * client pages appear before its first page, never shifting or repeating later pages.
   */
  async list(filter: RunFilter, limit: number, after: PageCursor | null): Promise<RunRow[]> {
    return this.db.rows<RunRow>(
      `SELECT ${RUN_COLUMNS} FROM cw_runs r JOIN cw_jobs j ON j.id = r.job_id
       WHERE ($1::text IS NULL OR j.owner = $1 OR j.owner = 'system')
         AND ($2::text IS NULL OR r.job_id = $2)
         AND ($3::text[] IS NULL OR r.status = ANY($3))
         AND ($4::text[] IS NULL OR r.trigger = ANY($4))
         AND ($5::timestamptz IS NULL OR r.queued_at >= $5)
         AND ($6::timestamptz IS NULL OR (r.queued_at, r.id) < ($6, $7::uuid))
       ORDER BY r.queued_at DESC, r.id DESC
       LIMIT $8`,
      [filter.visibleTo, filter.jobId ?? null, filter.statuses ?? null, filter.triggers ?? null, filter.since ?? null,
        after?.at ?? null, after?.id ?? null, limit],
    );
  }

  /** A run's stored chunks from `seq` on, both streams, in written order (each chunk was stored whole, in one transaction). */
  async outputFrom(runId: string, seq: number): Promise<FollowedChunk[]> {
    return this.db.rows<FollowedChunk>(
      `SELECT seq, stream, part, data FROM cw_run_output WHERE run_id = $1 AND seq >= $2 ORDER BY seq`,
      [runId, seq],
    );
  }

  /** A run's latest stdout chunks, newest first: where its last progress line is. */
  async latestStdout(runId: string, chunks: number): Promise<Buffer[]> {
    const rows = await this.db.rows<{ data: Buffer }>(
      `SELECT data FROM cw_run_output WHERE run_id = $1 AND stream = 'stdout' ORDER BY seq DESC LIMIT $2`,
      [runId, chunks],
    );
    return rows.map((row) => row.data);
  }
}
