import { Injectable, Logger } from '@nestjs/common';
import { Clock } from '../common/clock.js';
import type { CatchupPolicy, OverlapPolicy } from '../config/config.types.js';
import { Notifier } from '../database/notifier.js';
import { JobsRepository, type JobRow } from '../jobs/jobs.repository.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { ClockCheck } from '../nodes/clock-check.js';
import { RunsRepository } from '../runs/runs.repository.js';
import { planCatchup } from './catchup.js';
import { FireHeap } from './fire-heap.js';
import { missedInstants, nextFireAfter, type ScheduleSpec } from './schedule.js';

/** A timer never sleeps longer than this (suspend, int32 overflow, and the periodic sync ride on it). */
const MAX_SLEEP_MS = 5_000;
/** An instant fired this late still counts as on time; older ones follow the catch-up policy. */
const MISFIRE_GRACE_MS = 5_000;
/** Reload jobs changed by other nodes this often, in case a notification was lost. */
const SYNC_INTERVAL_MS = 5_000;
/** How often a node whose clock disagrees with the database's looks again. */
const SKEWED_RECHECK_MS = 1_000;
/** Jobs fired concurrently within one tick. */
const FIRE_CONCURRENCY = 8;
/** Instants within the misfire grace fired in one pass (a per-second job late by the grace has 5). */
const MAX_ON_TIME = 1_000;

interface ScheduledJob {
  id: string;
  spec: ScheduleSpec;
  anchor: Date;
  catchup: CatchupPolicy;
  overlap: OverlapPolicy;
  catchupWindowMs: number;
  jitterMs: number;
  /** The row's version when tracked: a sync skips rows it already has. */
  version: number;
}

/**
 * Fires every enabled, unpaused job at its instants: one timer over a heap of next fires. A fire
 * only inserts a queued run (the executor runs it); the insert itself decides, across nodes, that
 * an instant fires once.
 */
@Injectable()
export class SchedulerService {
  private readonly logger = new Logger(SchedulerService.name);
  private readonly heap = new FireHeap();
  private readonly jobs = new Map<string, ScheduledJob>();
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private stopped = true;
  private lastSyncAt = 0;
  private unsubscribe: (() => void) | null = null;
  /** When the loop last ran, for the health check. */
  lastTickAt = 0;

  constructor(
    private readonly jobsRepository: JobsRepository,
    private readonly runs: RunsRepository,
    private readonly notifier: Notifier,
    private readonly clock: Clock,
    private readonly clockCheck: ClockCheck,
    private readonly metrics: MetricsService,
  ) {}

  async start(): Promise<void> {
    this.stopped = false;
    this.lastSyncAt = this.clock.now();
    this.lastTickAt = this.lastSyncAt;
    for (const row of await this.jobsRepository.findEnabled()) this.track(row);
    this.unsubscribe = this.notifier.on('job.changed', ({ jobId }) => void this.reload(jobId));
    this.logger.log(`scheduler started with ${this.jobs.size} active job(s)`);
    this.arm();
  }

  /** Stops firing; resolves once a tick under way has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.ticking;
  }

  get activeJobs(): number {
    return this.jobs.size;
  }

  /** Re-reads one job and reschedules it (created, changed, paused, resumed or removed). */
  async reload(jobId: string): Promise<void> {
    try {
      const row = await this.jobsRepository.findById(jobId);
      if (row) this.track(row);
      else this.untrack(jobId);
      this.arm();
    } catch (error) {
      this.logger.warn(`could not reload job ${jobId}: ${(error as Error).message}`);
    }
  }

  private track(row: JobRow): void {
    if (!row.enabled || row.paused) {
      this.untrack(row.id);
      return;
    }
    const job: ScheduledJob = {
      id: row.id,
      spec: { cron: row.cron, everyMs: row.everyMs, timezone: row.timezone },
      // A job that never fired is anchored on its creation, so a restart does not reset an interval.
      anchor: new Date(row.anchorAt ?? row.createdAt),
      catchup: row.catchup,
      overlap: row.overlap,
      catchupWindowMs: row.catchupWindowMs,
      jitterMs: row.jitterMs,
      version: row.version,
    };
    this.jobs.set(job.id, job);
    this.heap.upsert(job.id, this.dueAt(job));
  }

  private untrack(jobId: string): void {
    this.jobs.delete(jobId);
    this.heap.remove(jobId);
  }

  /** When the loop should next look at a job: now if instants were missed, else its next instant. */
  private dueAt(job: ScheduledJob): number {
    const next = nextFireAfter(job.spec, job.anchor, job.anchor);
    if (!next) return Number.POSITIVE_INFINITY;
    return next.getTime() + jitterFor(job.id, next, job.jitterMs);
  }

  private arm(): void {
    if (this.stopped || this.ticking) return;
    if (this.timer) clearTimeout(this.timer);
    const next = this.heap.peek();
    // While the clock disagrees with the database's nothing fires; look again each second, not in a busy loop.
    const delay = !this.clockCheck.agrees ? SKEWED_RECHECK_MS : next ? Math.min(Math.max(next.at - this.clock.now(), 0), MAX_SLEEP_MS) : MAX_SLEEP_MS;
    this.timer = setTimeout(() => {
      this.ticking = this.tick().finally(() => {
        this.ticking = null;
        this.arm();
      });
    }, delay);
  }

  /** One pass of the loop; wrapped so that one bad tick cannot stop the loop. */
  private async tick(): Promise<void> {
    try {
      const now = this.clock.now();
      this.lastTickAt = now;
      if (!this.clockCheck.agrees) return;
      const due: ScheduledJob[] = [];
      while ((this.heap.peek()?.at ?? Number.POSITIVE_INFINITY) <= now) {
        const job = this.jobs.get(this.heap.pop()!.jobId);
        if (job) due.push(job);
      }
      await forEachConcurrently(due, FIRE_CONCURRENCY, (job) => this.fireDue(job));
      if (now - this.lastSyncAt >= SYNC_INTERVAL_MS) await this.syncChanged(now).catch((error: Error) => this.logger.warn(`could not look for changed jobs: ${error.message}`));
    } catch (error) {
      this.logger.error(`scheduler tick failed: ${(error as Error).message}`, (error as Error).stack);
    }
  }

  /** Fires what is due for one job: on-time instants as scheduled runs, older ones by the catch-up policy. */
  private async fireDue(job: ScheduledJob): Promise<void> {
    const now = this.clock.now();
    const lateFrom = new Date(now - MISFIRE_GRACE_MS - job.jitterMs - 1);
    try {
      if (job.anchor < lateFrom) {
        for (const step of planCatchup(job.spec, job.catchup, job.anchor, lateFrom, new Date(now - job.catchupWindowMs))) {
          if (step.kind === 'skip') await this.fire(job, step.first, step.last, 'catchup', step.reason);
          else await this.fire(job, step.at, step.at, 'catchup', null);
        }
      }
      // Catch-up moved the anchor past every older instant; what is left is on time.
      for (const instant of missedInstants(job.spec, job.anchor, new Date(now), MAX_ON_TIME).instants) {
        await this.fire(job, instant, instant, 'schedule', null);
      }
      if (this.jobs.get(job.id) === job) this.heap.upsert(job.id, this.dueAt(job));
    } catch (error) {
      // The database may be away: keep the job due and try again shortly; the anchor did not move.
      this.logger.warn(`could not fire job ${job.id}: ${(error as Error).message}`);
      if (this.jobs.get(job.id) === job) this.heap.upsert(job.id, now + 1_000);
    }
  }

  private async fire(job: ScheduledJob, first: Date, last: Date, trigger: 'schedule' | 'catchup', skipReason: string | null) {
    const run = await this.runs.fire({ jobId: job.id, scheduledFor: first, anchorTo: last, trigger, skipReason, maxClockSkewMs: this.clockCheck.maxSkewMs });
    job.anchor = last;
    if (!run) return;
    this.metrics.fire(job.id, run.status === 'queued' ? 'queued' : 'skipped');
    if (run.status === 'queued') this.notifier.publish('run.queued', { runId: run.id });
    else this.logger.log(`job ${job.id} instant ${first.toISOString()} skipped: ${run.error}`);
    if (run.status === 'queued' && job.overlap === 'replace') await this.replaceActive(job.id, run.id);
  }

  /** Overlap policy `replace`: the new run waits (see claimQueued) while the ones it replaces are stopped. */
  private async replaceActive(jobId: string, runId: string): Promise<void> {
    for (const replaced of await this.runs.replaceActive(jobId, runId)) {
      this.notifier.publish('run.cancel', { runId: replaced.id });
      this.logger.log({ message: `run ${replaced.id} of job ${jobId} is being stopped: ${replaced.error}`, jobId, runId: replaced.id });
    }
  }

  private async syncChanged(now: number): Promise<void> {
    const since = new Date(this.lastSyncAt - SYNC_INTERVAL_MS);
    this.lastSyncAt = now;
    for (const row of await this.jobsRepository.findChangedSince(since)) {
      // The window overlaps the last one (clock skew, late commits): rows already tracked at this version are skipped.
      if (row.enabled && !row.paused && this.jobs.get(row.id)?.version === row.version) continue;
      this.track(row);
    }
  }
}

/** A stable per-instant delay in [0, jitterMs), the same on every node. */
export function jitterFor(jobId: string, instant: Date, jitterMs: number): number {
  if (jitterMs <= 0) return 0;
  let hash = 2166136261;
  for (const char of `${jobId}@${instant.getTime()}`) hash = Math.imul(hash ^ char.charCodeAt(0), 16777619);
  return (hash >>> 0) % jitterMs;
}

async function forEachConcurrently<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
