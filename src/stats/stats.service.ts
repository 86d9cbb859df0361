import { Injectable } from '@nestjs/common';
import type { Caller } from '../auth/caller.js';
import { JobsRepository } from '../jobs/jobs.repository.js';
import { StatsRepository } from './stats.repository.js';
import { statsView, type StatsView } from './stats.view.js';

/** Run statistics per job and overall, for the jobs the caller may see. */
@Injectable()
export class StatsService {
  constructor(private readonly stats: StatsRepository, private readonly jobs: JobsRepository) {}

  async overview(caller: Caller): Promise<{ jobs: Array<StatsView & { jobId: string }>; total: StatsView }> {
    const visibleTo = caller.isAdmin ? null : caller.sub;
    const [rows, jobs] = await Promise.all([this.stats.forVisibleJobs(visibleTo), this.jobs.list({ visibleTo })]);
    const byJob = new Map(rows.filter((row) => row.jobId !== null).map((row) => [row.jobId, row]));
    return {
      // Jobs without runs have no row: they get zeros.
      jobs: jobs.map((job) => ({ jobId: job.id, ...statsView(byJob.get(job.id)) })),
      total: statsView(rows.find((row) => row.jobId === null)),
    };
  }

  async forJob(jobId: string): Promise<StatsView> {
    return statsView(await this.stats.forJob(jobId));
  }
}
