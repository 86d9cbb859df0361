import { Inject, Injectable, Logger } from '@nestjs/common';
import type { QueryRunner } from 'typeorm';
import { CONFIG } from '../config/config.module.js';
import type { CronwardenConfig, RetryPolicy } from '../config/config.types.js';
import { Database } from '../database/database.js';
import { Notifier } from '../database/notifier.js';
import { RunsRepository, type ClaimedRun, type FinishEntry, type RunFinish, type RunRow } from '../runs/runs.repository.js';
import { RETRIED_STATUSES, retryDelayMs } from './retry-policy.js';
import { WriteBatcher } from '../common/write-batcher.js';

const NO_RETRIES: RetryPolicy = { max: 0, backoffMs: 0, factor: 1 };
/** How the executor names a kill at shutdown (ExecutorService.shutdown). */
export const SHUTDOWN_REASON = 'daemon shutdown';

/** A claim of queued runs sent along with a write (see RunFinisher.carryClaimsOf). */
export interface CarriedClaim {
  nodeId: string;
  limit: number;
  /** The claimed runs: they belong to the carrier now. */
  deliver(runs: ClaimedRun[]): void;
  fail(error: unknown): void;
}

/** Who claims runs, asked for a claim whenever finishes are about to be written. */
export interface ClaimCarrier {
  /** A claim to send now, or null (no free slot, or a claim already under way). */
  claimAlong(): CarriedClaim | null;
}

/** A run that ended, the retry queued for it (if any) and the runs of the jobs it chains to. */
export interface EndedRun {
  run: RunRow;
  retry: RunRow | null;
  chained: RunRow[];
}

/**
 * Ends runs and queues their retries in the same transaction, so that a node dying between the
 * two cannot lose a retry; the unique key on a retry's parent makes it happen once across nodes.
 */
@Injectable()
export class RunFinisher {
  private readonly logger = new Logger('Run');

  constructor(
    @Inject(CONFIG) private readonly config: CronwardenConfig,
    private readonly db: Database,
    private readonly runs: RunsRepository,
    private readonly notifier: Notifier,
  ) {}

  private readonly finishes = new WriteBatcher((entries: FinishEntry[]) => this.writeFinishes(entries));
  private claims: ClaimCarrier | null = null;

  /** Lets batches of finishes carry `carrier`'s claims (ExecutorService does this while it runs). */
  carryClaimsOf(carrier: ClaimCarrier | null): void {
    this.claims = carrier;
  }

  /** Whether finishes wait for their write: the next write will ask for a claim (ClaimCarrier.claimAlong). */
  get finishesWaiting(): boolean {
    return this.finishes.waiting > 0;
  }

  /** A batch of finishes, with a claim for free slots when the executor wants one: one statement for both. */
  private async writeFinishes(entries: FinishEntry[]): Promise<boolean[]> {
    const claim = this.claims?.claimAlong() ?? null;
    if (!claim) return this.runs.endMany(entries);
    try {
      const { ended, claimed } = await this.runs.endManyAndClaim(entries, claim.nodeId, claim.limit);
      claim.deliver(claimed);
      return ended;
    } catch (error) {
      claim.fail(error);
      // A claim must never cost a finish: written again without it (failing alone if the finish was the problem).
      return this.runs.endMany(entries);
    }
  }

  /**
   * Records how a running run ended and, for a failure or timeout with retries left, queues its
   * retry. False when the run was no longer running (another node reaped it meanwhile).
   */
  async finish(run: Pick<RunRow, 'id' | 'jobId'>, pipeline: string, finish: RunFinish): Promise<boolean> {
    const runId = run.id;
    // Nothing can follow: no transaction, and batched with the other runs ending meanwhile.
    if (!this.mayFollowUp(run.jobId, pipeline, finish.status)) return this.finishes.push({ runId, finish });
    const ended = await this.db.transaction(async (runner) => {
      const run = await this.runs.finish(runId, finish, runner);
      return run ? { run, ...(await this.queueFollowUps(run, pipeline, runner)) } : null;
    });
    if (ended) this.announce(ended);
    return ended !== null;
  }

  /**
   * What follows a run that ended: its retry when it failed, timed out or was abandoned with
   * retries left (the job's policy, else its pipeline's), and the runs of the jobs it chains to:
   * `onSuccess` after a success, `onFailure` after a failure with no retry left.
   */
  async queueFollowUps(run: RunRow, pipeline: string, runner: QueryRunner): Promise<Omit<EndedRun, 'run'>> {
    const retry = await this.queueRetry(run, pipeline, runner);
    const job = this.config.jobs.get(run.jobId);
    const targets = run.status === 'succeeded' ? job?.onSuccess : RETRIED_STATUSES.includes(run.status) && !retry ? job?.onFailure : [];
    const chained: RunRow[] = [];
    for (const jobId of targets ?? []) {
      const chainedRun = await this.runs.queueChained(run, jobId, runner);
      if (chainedRun) chained.push(chainedRun);
    }
    return { retry, chained };
  }

  private async queueRetry(run: RunRow, pipeline: string, runner: QueryRunner): Promise<RunRow | null> {
    if (run.status === 'cancelled' && run.error?.startsWith(SHUTDOWN_REASON) && this.config.pipelines.get(pipeline)?.requeueOnShutdown) {
      return this.runs.queueRetry(run, 0, runner);
    }
    if (!RETRIED_STATUSES.includes(run.status)) return null;
    const delayMs = retryDelayMs(this.config.jobs.get(run.jobId)?.retries ?? this.policyFor(pipeline), run.attempt);
    return delayMs === null ? null : this.runs.queueRetry(run, delayMs, runner);
  }

  /** Wakes the executors for a retry or chained runs (one with a backoff is claimed by the poll once it is due) and logs it. */
  announce({ run, retry, chained }: EndedRun): void {
    for (const next of chained.filter((c) => c.status === 'queued')) {
      this.notifier.publish('run.queued', { runId: next.id, jobIds: [next.jobId] });
      this.logger.log({ message: `run ${run.id} of job ${run.jobId} ${run.status}: chained run ${next.id} of job ${next.jobId} queued`, jobId: next.jobId, runId: next.id, parentRunId: run.id });
    }
    if (!retry) return;
    this.notifier.publish('run.queued', { runId: retry.id, jobIds: [retry.jobId] });
    const at = retry.notBefore?.toISOString() ?? 'now';
    this.logger.log({ message: `run ${run.id} of job ${run.jobId} ${run.status} on attempt ${run.attempt}: retry ${retry.id} (attempt ${retry.attempt}) queued for ${at}`, jobId: run.jobId, runId: retry.id, parentRunId: run.id, attempt: retry.attempt });
  }

  /** Whether a run of the job ending so could be retried, requeued or chained (then it ends in a transaction with those). */
  private mayFollowUp(jobId: string, pipeline: string, status: RunFinish['status']): boolean {
    const job = this.config.jobs.get(jobId);
    if (status === 'succeeded') return (job?.onSuccess?.length ?? 0) > 0;
    if (status === 'cancelled') return this.config.pipelines.get(pipeline)?.requeueOnShutdown === true;
    return (job?.onFailure?.length ?? 0) > 0 || (job?.retries ?? this.policyFor(pipeline)).max > 0;
  }

  private policyFor(pipeline: string): RetryPolicy {
    return this.config.pipelines.get(pipeline)?.retries ?? NO_RETRIES;
  }
}
