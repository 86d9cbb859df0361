import { Inject, Injectable, Logger } from '@nestjs/common';
import { canManageJob, canSeeJob, type Caller } from '../auth/caller.js';
import { Clock } from '../common/clock.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../common/errors.js';
import { CONFIG } from '../config/config.module.js';
import type { CronwardenConfig } from '../config/config.types.js';
import { Notifier } from '../database/notifier.js';
import { RunsRepository } from '../runs/runs.repository.js';
import { runView, type RunView } from '../runs/runs.view.js';
import { JobsRepository, type JobRow } from './jobs.repository.js';
import { jobView, type JobView } from './jobs.view.js';

/** What people and machines may do with jobs, with the ownership rules of DESIGN.md. */
@Injectable()
export class JobsService {
  private readonly logger = new Logger(JobsService.name);

  constructor(
    @Inject(CONFIG) private readonly config: CronwardenConfig,
    private readonly jobs: JobsRepository,
    private readonly runs: RunsRepository,
    private readonly notifier: Notifier,
    private readonly clock: Clock,
  ) {}

  /**
   * Brings the config file's jobs into the database at start: the file wins for definitions,
   * pause state and anchors survive, jobs gone from the file are disabled with their history kept.
   */
  async syncConfigJobs(): Promise<void> {
    for (const job of this.config.jobs.values()) {
      const row = await this.jobs.upsertConfigJob(job);
      if (!row) throw new ConflictError(`job "${job.id}" in ${this.config.file} clashes with a job of that id created through the API; rename one of them`);
    }
    const disabled = await this.jobs.disableConfigJobsExcept([...this.config.jobs.keys()]);
    if (disabled.length > 0) this.logger.warn(`config jobs no longer in ${this.config.file} disabled (history kept): ${disabled.join(', ')}`);
  }

  async list(caller: Caller, filter: { owner?: string; paused?: boolean; pipeline?: string }): Promise<JobView[]> {
    const rows = await this.jobs.list({ visibleTo: caller.isAdmin ? null : caller.sub, ...filter });
    const lastRuns = await this.runs.lastRuns(rows.map((row) => row.id));
    const now = new Date(this.clock.now());
    return rows.map((row) => jobView(row, lastRuns.get(row.id) ?? null, now));
  }

  async get(caller: Caller, id: string): Promise<JobView> {
    const row = await this.visible(caller, id);
    return this.view(row);
  }

  async setPaused(caller: Caller, id: string, paused: boolean, note: string | null): Promise<JobView> {
    await this.manageable(caller, id);
    const row = await this.jobs.setPaused(id, paused, caller.sub, note);
    if (!row) throw new NotFoundError(`job "${id}" not found`);
    this.notifier.publish('job.changed', { jobId: id });
    this.logger.log({ message: `job ${id} ${paused ? 'paused' : 'resumed'} by ${caller.sub}`, jobId: id });
    return this.view(row);
  }

  /** Queues a manual run now; params given here are merged over the job's. */
  async trigger(caller: Caller, id: string, params: Record<string, unknown> | undefined): Promise<RunView> {
    const job = await this.manageable(caller, id);
    const run = await this.runs.enqueue(job.id, 'manual', { ...job.params, ...params }, caller.sub);
    this.notifier.publish('run.queued', { runId: run.id });
    this.logger.log({ message: `job ${id} triggered by ${caller.sub}: run ${run.id}`, jobId: id, runId: run.id });
    return runView(run);
  }

  /** The job row if the caller may see it; 404 otherwise, so ids of others' jobs do not leak. */
  async visible(caller: Caller, id: string): Promise<JobRow> {
    const row = await this.jobs.findById(id);
    if (!row || !row.enabled || !canSeeJob(caller, row)) throw new NotFoundError(`job "${id}" not found`);
    return row;
  }

  private async manageable(caller: Caller, id: string): Promise<JobRow> {
    const row = await this.visible(caller, id);
    if (!canManageJob(caller, row)) {
      throw new ForbiddenError(row.source === 'config'
        ? `job "${id}" is a system job from the config file: only an admin may change or trigger it`
        : `job "${id}" belongs to ${row.owner}`);
    }
    return row;
  }

  private async view(row: JobRow): Promise<JobView> {
    const lastRuns = await this.runs.lastRuns([row.id]);
    return jobView(row, lastRuns.get(row.id) ?? null, new Date(this.clock.now()));
  }
}
