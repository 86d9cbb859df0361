import { Injectable } from '@nestjs/common';
import { AuditLog } from '../audit/audit-log.js';
import { canManageJob, canSeeJob, type Caller } from '../auth/caller.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../common/errors.js';
import { cutPage } from '../common/page.js';
import { JobsRepository, type JobRow } from '../jobs/jobs.repository.js';
import { LiveOutputs } from './live-output.js';
import { FINAL_STATUSES } from './run.entity.js';
import { renderOutput, tailLines } from './output-text.js';
import { lastProgress } from './progress.js';
import { RunCancellation } from './run-cancellation.js';
import { decodeCursor, encodeCursor, UUID } from './page-cursor.js';
import { RunHistoryRepository, type RunFilter } from './run-history.repository.js';
import { RunOutputRepository, type OutputStream } from './run-output.repository.js';
import type { ListAllRunsQuery } from './runs.dto.js';
import { RunsRepository, type RunRow } from './runs.repository.js';
import { runView, type RunDetail, type RunView } from './runs.view.js';

/** How many of a run's latest stdout chunks are searched for its progress line. */
const PROGRESS_SCAN_CHUNKS = 4;

export interface RunPage {
  items: RunView[];
  /** Pass as `cursor` to get the next (older) page; null on the last page. */
  nextCursor: string | null;
}

/** Reading and cancelling runs; visibility follows the run's job. */
@Injectable()
export class RunsService {
  constructor(
    private readonly runs: RunsRepository,
    private readonly history: RunHistoryRepository,
    private readonly output: RunOutputRepository,
    private readonly jobs: JobsRepository,
    private readonly cancellation: RunCancellation,
    private readonly audit: AuditLog,
    private readonly live: LiveOutputs,
  ) {}

  async listForJob(caller: Caller, jobId: string, limit: number, cursor: string | null): Promise<RunPage> {
    const job = await this.jobs.findById(jobId);
    if (!job || !canSeeJob(caller, job)) throw new NotFoundError(`job "${jobId}" not found`);
    const after = cursor ? decodeCursor(cursor) : null;
    const rows = await this.runs.listForJob(jobId, limit + 1, after && { queuedAt: after.at, id: after.id });
    return page(rows, limit);
  }

  /** Runs of every job the caller may see, newest first, filtered and paginated. */
  async list(caller: Caller, query: ListAllRunsQuery): Promise<RunPage> {
    const limit = query.limit ?? 50;
    const filter: RunFilter = {
      visibleTo: caller.isAdmin ? null : caller.sub,
      jobId: query.jobId,
      statuses: query.status,
      triggers: query.trigger,
      since: query.since,
    };
    const rows = await this.history.list(filter, limit + 1, query.cursor ? decodeCursor(query.cursor) : null);
    return page(rows, limit);
  }

  /** One run, with the progress its child last reported. */
  async get(caller: Caller, runId: string): Promise<RunDetail> {
    const { run } = await this.visible(caller, runId);
    // Progress lines come often; the last few chunks (at most 64 KiB each) hold the latest one.
    const chunks = this.live.latestStdout(runId, PROGRESS_SCAN_CHUNKS) ?? await this.history.latestStdout(runId, PROGRESS_SCAN_CHUNKS);
    const progress = lastProgress(Buffer.concat(chunks.reverse()).toString('utf8'));
    // A retry is queued in the transaction that ends its parent: an ended run has its retry by now, or none.
    const retryRunId = FINAL_STATUSES.includes(run.status) ? await this.runs.retryOf(run.id) : null;
    return { ...runView(run), progress: progress?.progress ?? null, progressNote: progress?.note ?? null, retryRunId };
  }

  /**
   * The run's kept output as text: head, a line saying how much was dropped, tail; optionally its
   * last lines. From memory while this node runs it, so the moving tail is current.
   */
  async outputText(caller: Caller, runId: string, stream?: OutputStream, tail?: number): Promise<string> {
    const { run } = await this.visible(caller, runId);
    const live = this.live.snapshot(runId, stream);
    const text = live ? renderOutput(live.snapshot, live.droppedBytes) : renderOutput(await this.output.read(runId, stream), run.outputDroppedBytes);
    return tail === undefined ? text : tailLines(text, tail);
  }

  /**
   * Cancels a queued run at once, or has the node running it kill its process group. Returns the
   * run and whether it is already over (`cancelled`) or still stopping.
   */
  async cancel(caller: Caller, runId: string, reason: string | undefined): Promise<{ run: RunView; done: boolean }> {
    const { run, job } = await this.visible(caller, runId);
    if (!canManageJob(caller, job)) throw new ForbiddenError(`only an admin may cancel runs of the system job "${job.id}"`);
    if (run.status !== 'queued' && run.status !== 'running') throw new ConflictError(`run ${runId} already ended (${run.status})`);
    const why = `cancelled by ${caller.sub}${reason ? `: ${reason}` : ''}`;
    const now = await this.cancellation.cancel(run, caller.sub, why);
    if (now.cancelRequestedBy === caller.sub) {
      await this.audit.record({ actor: caller.sub, action: 'run.cancel', jobId: job.id, runId, details: { reason: reason ?? null, statusBefore: run.status } });
    }
    if (now.status !== 'queued' && now.status !== 'running' && now.status !== 'cancelled') {
      throw new ConflictError(`run ${runId} already ended (${now.status})`);
    }
    return { run: runView(now), done: now.status === 'cancelled' };
  }

  /** The run and its job if the caller may see the job; 404 otherwise. */
  async visible(caller: Caller, runId: string): Promise<{ run: RunRow; job: JobRow }> {
    const run = UUID.test(runId) ? await this.runs.findById(runId) : null;
    const job = run ? await this.jobs.findById(run.jobId) : null;
    if (!run || !job || !canSeeJob(caller, job)) throw new NotFoundError(`run "${runId}" not found`);
    return { run, job };
  }
}

function page(rows: RunRow[], limit: number): RunPage {
  const { items, nextCursor } = cutPage(rows, limit, (last) => encodeCursor(last.queuedAt, last.id));
  return { items: items.map(runView), nextCursor };
}
