import { Injectable } from '@nestjs/common';
import type { Caller } from '../auth/caller.js';
import { cutPage } from '../common/page.js';
import { JOB_ID } from '../jobs/jobs.dto.js';
import { JobsRepository } from '../jobs/jobs.repository.js';
import { decodeKeyCursor, encodeKeyCursor } from '../runs/page-cursor.js';
import { StatsRepository, type StatsRow } from './stats.repository.js';
import { statsView, type StatsView } from './stats.view.js';

export type JobStatsView = StatsView & { jobId: string };

/** Run statistics per job and overall, for the jobs the caller may see. */
@Injectable()
export class StatsService {
  constructor(private readonly stats: StatsRepository, private readonly jobs: JobsRepository) {}

  async overview(caller: Caller): Promise<{ jobs: JobStatsView[]; total: StatsView }> {
    const visibleTo = caller.isAdmin ? null : caller.sub;
    const [rows, jobs] = await Promise.all([this.stats.forVisibleJobs(visibleTo), this.jobs.list({ visibleTo })]);
    return { jobs: jobStats(jobs.map((job) => job.id), rows), total: statsView(rows.find((row) => row.jobId === null)) };
  }

  /**
   * One page of the visible jobs' statistics in id order: up to `limit` jobs after the cursor's, and
   * the cursor of the next page. Reads only those jobs' runs: the whole overview reads every job's.
   */
  async page(caller: Caller, limit: number, cursor: string | null): Promise<{ items: JobStatsView[]; nextCursor: string | null }> {
    const after = cursor === null ? null : decodeKeyCursor(cursor, JOB_ID);
    const rows = await this.jobs.list({ visibleTo: caller.isAdmin ? null : caller.sub }, { after, limit: limit + 1 });
    const { items, nextCursor } = cutPage(rows, limit, (last) => encodeKeyCursor(last.id));
    const ids = items.map((job) => job.id);
    return { items: jobStats(ids, await this.stats.forJobs(ids)), nextCursor };
  }

  async forJob(jobId: string): Promise<StatsView> {
    return statsView(await this.stats.forJob(jobId));
  }
}

/** Each job's statistics from the aggregate rows (a total row, jobId null, is ignored); a job without runs has no row and gets zeros. */
function jobStats(ids: string[], rows: StatsRow[]): JobStatsView[] {
  const byJob = new Map(rows.filter((row) => row.jobId !== null).map((row) => [row.jobId, row]));
  return ids.map((jobId) => ({ jobId, ...statsView(byJob.get(jobId)) }));
}
