import { Inject, Injectable, Logger } from '@nestjs/common';
import { AuditLog } from '../audit/audit-log.js';
import { canManageJob, canSeeJob, managedJobs, SYSTEM_OWNER, type Caller } from '../auth/caller.js';
import { Clock } from '../common/clock.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../common/errors.js';
import { CONFIG } from '../config/config.module.js';
import type { CronwardenConfig } from '../config/config.types.js';
import { formatDuration, parseDuration } from '../config/durations.js';
import { Notifier } from '../database/notifier.js';
import { RunCancellation } from '../runs/run-cancellation.js';
import { RunsRepository } from '../runs/runs.repository.js';
import { runView, type RunView } from '../runs/runs.view.js';
import { StatsService } from '../stats/stats.service.js';
import type { StatsView } from '../stats/stats.view.js';
import { changedJobDefinition, definitionChanges, describeDefinition, generatedJobId, newJobDefinition } from './job-definition.js';
import { JOB_ID, type CreateJobDto, type PreviewDto, type UpdateJobDto } from './jobs.dto.js';
import { JobPages } from './job-pages.js';
import { JobsRepository, type JobRow } from './jobs.repository.js';
import { jobView, type JobView } from './jobs.view.js';
import { previewSchedule, type PreviewView } from './schedule-preview.js';

/** Config jobs written per statement at start: one round trip per thousand, not per job. */
const CONFIG_SYNC_BATCH = 1000;

export type JobListFilter = { owner?: string; paused?: boolean; pipeline?: string };

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
    private readonly cancellation: RunCancellation,
    private readonly audit: AuditLog,
    private readonly stats: StatsService,
    private readonly pages: JobPages,
  ) {}

  /**
   * Brings the config file's jobs into the database at start: the file wins for definitions,
   * pause state and anchors survive, jobs gone from the file are disabled with their history kept.
   */
  async syncConfigJobs(): Promise<void> {
    const jobs = [...this.config.jobs.values()];
    for (let start = 0; start < jobs.length; start += CONFIG_SYNC_BATCH) {
      const batch = jobs.slice(start, start + CONFIG_SYNC_BATCH);
      const written = new Set(await this.jobs.upsertConfigJobs(batch));
      const clash = batch.find((job) => !written.has(job.id));
      if (clash) throw new ConflictError(`job "${clash.id}" in ${this.config.file} clashes with a job of that id created through the API; rename one of them`);
    }
    const disabled = await this.jobs.disableConfigJobsExcept([...this.config.jobs.keys()]);
    if (disabled.length > 0) this.logger.warn(`config jobs no longer in ${this.config.file} disabled (history kept): ${disabled.join(', ')}`);
  }

  /** Every job the caller may see that passes the filter, in id order. */
  async list(caller: Caller, filter: JobListFilter): Promise<JobView[]> {
    return this.views(await this.jobs.list({ visibleTo: caller.isAdmin ? null : caller.sub, ...filter }));
  }

  /** One job, with statistics over its latest runs. */
  async get(caller: Caller, id: string): Promise<JobView & { stats: StatsView }> {
    const row = await this.visible(caller, id);
    return { ...(await this.view(row)), stats: await this.stats.forJob(row.id) };
  }

  /** Creates a job owned by the caller (or, for an admin, by `owner`); the scheduler picks it up at once. */
  async create(caller: Caller, dto: CreateJobDto): Promise<JobView> {
    const owner = this.ownerFor(caller, dto.owner);
    const id = dto.id ?? generatedJobId(dto.name);
    const definition = newJobDefinition(dto, id, owner, this.config.pipelines);
    const row = await this.jobs.insertApiJob(id, definition);
    if (!row) throw await this.idTaken(id);
    this.changed(row, `created by ${caller.sub}`);
    await this.audit.record({ actor: caller.sub, action: 'job.create', jobId: id, details: describeDefinition(row) });
    return this.view(row);
  }

  /** Changes the fields given; a new schedule takes effect at once and counts from now. */
  async update(caller: Caller, id: string, dto: UpdateJobDto): Promise<JobView> {
    const current = this.notConfigJob(await this.manageable(caller, id), 'changed');
    if (dto.owner !== undefined) this.ownerFor(caller, dto.owner);
    const { definition, scheduleChanged } = changedJobDefinition(current, dto, this.config.pipelines);
    const row = await this.jobs.updateApiJob(id, current.version, definition, scheduleChanged);
    if (!row) throw new ConflictError(`job "${id}" was changed or deleted meanwhile; read it again and retry`);
    this.changed(row, `changed by ${caller.sub}`);
    await this.audit.record({ actor: caller.sub, action: 'job.update', jobId: id, details: { changes: definitionChanges(current, row) } });
    return this.view(row);
  }

  /** Deletes an API job; its queued runs are cancelled and a running one is stopped. */
  async remove(caller: Caller, id: string): Promise<void> {
    this.notConfigJob(await this.manageable(caller, id), 'deleted');
    const row = await this.jobs.markDeleted(id);
    if (!row) throw new NotFoundError(`job "${id}" not found`);
    this.changed(row, `deleted by ${caller.sub}`);
    await this.audit.record({ actor: caller.sub, action: 'job.delete', jobId: id, details: { name: row.name, owner: row.owner } });
    await this.cancellation.cancelActive(id, caller.sub, `job ${id} was deleted by ${caller.sub}`);
  }

  async setPaused(caller: Caller, id: string, paused: boolean, note: string | null): Promise<JobView> {
    await this.manageable(caller, id);
    const row = await this.jobs.setPaused(id, paused, caller.sub, note);
    if (!row) throw new NotFoundError(`job "${id}" not found`);
    this.changed(row, `${paused ? 'paused' : 'resumed'} by ${caller.sub}`);
    await this.audit.record({ actor: caller.sub, action: paused ? 'job.pause' : 'job.resume', jobId: id, details: paused ? { note } : {} });
    return this.view(row);
  }

  /**
   * Queues a manual run now; params given here are merged over the job's. A paused job runs too:
   * pausing stops the schedule, not people. One statement: the run and its audit row, written only
   * if the caller may manage the job. The job is read only when nothing was written, to say why.
   */
  async trigger(caller: Caller, id: string, params: Record<string, unknown> | undefined): Promise<RunView> {
    const managed = managedJobs(caller);
    const apiJobsOf = typeof managed === 'object' ? managed.apiJobsOf : null;
    const queue = async () =>
      managed === 'none' || !JOB_ID.test(id) ? null : this.runs.queueManual(id, params ?? {}, caller.sub, { params: params ?? null }, apiJobsOf);
    let run = await queue();
    if (!run) {
      // 404 or 403, as for any change; a job that became manageable in between gets a second try.
      await this.manageable(caller, id);
      run = await queue();
    }
    if (!run) throw new NotFoundError(`job "${id}" not found`);
    this.notifier.publish('run.queued', { runId: run.id, jobIds: [id] });
    this.logger.log({ message: `job ${id} triggered by ${caller.sub}: run ${run.id}`, jobId: id, runId: run.id });
    return runView(run);
  }

  /** The job's next `n` instants (as if it were not paused), in UTC and in its time zone, with DST notes. */
  async upcoming(caller: Caller, id: string, n: number): Promise<PreviewView & { jobId: string; paused: boolean }> {
    const row = await this.visible(caller, id);
    const now = new Date(this.clock.now());
    const anchor = row.anchorAt ?? row.createdAt;
    const spec = { cron: row.cron, everyMs: row.everyMs, timezone: row.timezone };
    const every = row.everyMs === null ? null : formatDuration(row.everyMs);
    const preview = previewSchedule(spec, every, anchor > now ? anchor : now, n, anchor);
    return { jobId: row.id, paused: row.paused, ...preview };
  }

  /** The next instants of a schedule that is not saved; an interval counts from now. */
  preview(dto: PreviewDto): PreviewView {
    const spec = { cron: dto.cron?.trim() ?? null, everyMs: dto.every === undefined ? null : parseDuration(dto.every), timezone: dto.timezone ?? 'UTC' };
    return previewSchedule(spec, dto.every ?? null, new Date(this.clock.now()), dto.n ?? 20, null);
  }

  /** The job row if the caller may see it; 404 otherwise, so ids of others' jobs do not leak. */
  async visible(caller: Caller, id: string): Promise<JobRow> {
    const row = JOB_ID.test(id) ? await this.jobs.findById(id) : null;
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

  /** Tells every node's scheduler to reload the job, and logs who did what. */
  private changed(row: JobRow, what: string): void {
    this.notifier.publish('job.changed', { jobId: row.id });
    this.logger.log({ message: `job ${row.id} ${what}`, jobId: row.id });
  }

  /** The owner a create or edit may set: anyone for an admin; for a user only themselves, never `system`. */
  private ownerFor(caller: Caller, requested: string | undefined): string {
    if (caller.isAdmin) return requested ?? caller.sub;
    if (requested !== undefined && requested !== caller.sub) throw new ForbiddenError('only an admin may set the owner of a job to someone else');
    if (caller.sub === SYSTEM_OWNER) throw new ForbiddenError(`the subject "${SYSTEM_OWNER}" is reserved for config jobs and cannot own API jobs`);
    return caller.sub;
  }

  private notConfigJob(row: JobRow, verb: string): JobRow {
    if (row.source !== 'config') return row;
    throw new ConflictError(`job "${row.id}" comes from the config file and cannot be ${verb} through the API `
      + '(only paused, resumed and triggered); edit the file and restart instead');
  }

  private async idTaken(id: string): Promise<ConflictError> {
    const existing = await this.jobs.findById(id);
    if (existing?.source === 'config') {
      return new ConflictError(`job "${id}" is defined in the config file; config jobs cannot be redefined through the API`);
    }
    if (existing && !existing.enabled) return new ConflictError(`job id "${id}" belonged to a deleted job whose run is still ending; retry shortly`);
    return new ConflictError(`a job with id "${id}" already exists`);
  }

  private async views(rows: JobRow[]): Promise<JobView[]> {
    return (await this.pages.views(rows)).views;
  }

  private async view(row: JobRow): Promise<JobView> {
    const [lastRuns, freshness] = [await this.runs.lastRuns([row.id]), await this.runs.freshness([row.id])];
    return jobView(row, lastRuns.get(row.id) ?? null, new Date(this.clock.now()), freshness.get(row.id));
  }
}
