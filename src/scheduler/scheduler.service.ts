import { Inject, Injectable, Logger } from '@nestjs/common';
import { Clock } from '../common/clock.js';
import { isTransientDatabaseError } from '../common/errors.js';
import { CONFIG } from '../config/config.module.js';
import type { CatchupPolicy, CronwardenConfig, OverlapPolicy } from '../config/config.types.js';
import { Notifier } from '../database/notifier.js';
import { JobsRepository, type ScheduleRow } from '../jobs/jobs.repository.js';
import { storedNextFire } from '../jobs/next-run.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { ClockCheck } from '../nodes/clock-check.js';
import { NodeIdentity } from '../nodes/node-identity.js';
import { RunsRepository, type RunRow, type StageResult } from '../runs/runs.repository.js';
import { planCatchup } from './catchup.js';
import { FireHeap } from './fire-heap.js';
import { missedInstants, nextFireAfter, type ScheduleSpec } from './schedule.js';
import { MAX_STAGE_AHEAD_MS, stageLeadMs } from './stage-lead.js';

/** A timer never sleeps longer than this (suspend, int32 overflow, and the periodic sync ride on it). */
const MAX_SLEEP_MS = 5_000;
/** An instant fired this late still counts as on time; older ones follow the catch-up policy. */
const MISFIRE_GRACE_MS = 5_000;
/** Reload jobs changed by other nodes this often, in case a notification was lost. */
const SYNC_INTERVAL_MS = 5_000;
/** How often a node whose clock disagrees with the database's looks again. */
const SKEWED_RECHECK_MS = 1_000;
/** Jobs catching up concurrently within one tick (each records its missed instants in order). */
const CATCHUP_CONCURRENCY = 8;
/** On-time instants recorded by one statement, one per job: 10,000 jobs due at once take ten. */
const FIRE_BATCH = 1_000;
/** Instants within the misfire grace fired in one pass (a per-second job late by the grace has 5). */
const MAX_ON_TIME = 1_000;
/** How soon a fire that failed (the database away) is tried again. */
const RETRY_FIRE_MS = 1_000;
/** Next fires stored by one statement. */
const STORE_BATCH = 5_000;
/** Instants announced by one `run.staged` signal (a NOTIFY payload holds under 8,000 bytes). */
const DUE_PER_SIGNAL = 400;
/** How long the row of a job this node stopped tracking is remembered, so that a slower, older read of it is ignored. */
const UNTRACKED_MEMORY_MS = 60_000;

/** Which of two reads of a job's row is newer: a job recreated under the same id starts its versions again. */
interface RowStamp {
  createdAt: number;
  version: number;
}

interface ScheduledJob {
  id: string;
  spec: ScheduleSpec;
  /** The last instant handled; the creation time for a job that never fired. */
  anchor: Date;
  /** The anchor as the database has it (null until the job first fires): guards storing `next`. */
  storedAnchor: Date | null;
  /** The first instant after the anchor; null when the schedule has no further one. */
  next: Date | null;
  catchup: CatchupPolicy;
  overlap: OverlapPolicy;
  catchupWindowMs: number;
  jitterMs: number;
  /** The row's version when tracked: a sync skips rows it already has. */
  version: number;
  /** The row's creation time (epoch ms): with the version, tells an older read of the row from a newer one. */
  createdAt: number;
  /** An instant (epoch ms) whose staging was declined (a run of the job was active): it fires at its time. */
  declinedFor: number | null;
  /** When the staging group the job waits in on the heap may start (its dueAt, epoch ms); null when it waits for no staging. */
  group: number | null;
}

/**
 * Fires every enabled, unpaused job at its instants: one timer over a heap of next fires. A fire
 * only inserts a queued run (the executor runs it); the insert itself decides, across nodes, that
 * an instant fires once. The jobs due in a tick are fired together, up to a thousand per statement, and
 * each job's next fire is kept in the database (`next_fire_at`), so a start with many jobs reads
 * the heap instead of computing every schedule.
 *
 * Runs are staged: 2 s before an instant (half a period for a job firing more often, longer for an
 * instant thousands of jobs share: stage-lead.ts) its run is recorded, queued from the instant on,
 * and the executors are told when to claim. At the instant nothing is left to write, however many
 * jobs share it, and a node that stops in between leaves the run to the others. A job with a run
 * still queued or running is not staged: its overlap policy is applied at the instant, by a fire,
 * as it always was. The heap orders each job by when the scheduler acts on it: the staging time,
 * or the instant (plus jitter) itself once staging was declined or failed.
 */
@Injectable()
export class SchedulerService {
  private readonly logger = new Logger(SchedulerService.name);
  private readonly heap = new FireHeap();
  /** The jobs waiting on the heap to be staged, by when their runs may start (dueAt, epoch ms). */
  private readonly groups = new Map<number, Set<ScheduledJob>>();
  private readonly jobs = new Map<string, ScheduledJob>();
  /** Jobs whose `next` the database does not have yet; stored with the periodic sync and at stop. */
  private readonly unstored = new Set<ScheduledJob>();
  /** The rows of jobs recently paused, disabled or deleted (with when they were read), newest read kept. */
  private readonly untracked = new Map<string, RowStamp & { at: number }>();
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
    private readonly node: NodeIdentity,
    @Inject(CONFIG) private readonly config: CronwardenConfig,
  ) {}

  /**
   * For a node starting, before its executor claims anything: the runs a lone node staged and then
   * never started, because it died before their instants (a stop takes them back itself), are undone
   * while no other node is alive, so that start() meets those instants as missed and the jobs'
   * catch-up policies decide about them. Instants within the misfire grace are left to run.
   */
  async undoMissedStaging(): Promise<void> {
    try {
      const unstaged = await this.runs.unstageMissed(this.node.id, this.config.daemon.nodeTimeoutMs, MISFIRE_GRACE_MS);
      if (unstaged > 0) this.logger.log(`undid ${unstaged} run(s) staged for instants that passed while no node was running; the catch-up policy decides`);
    } catch (error) {
      this.logger.warn(`could not undo the runs staged for instants that passed while no node was running (they run now): ${(error as Error).message}`);
    }
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.lastSyncAt = this.clock.now();
    this.lastTickAt = this.lastSyncAt;
    const rows = await this.jobsRepository.findSchedules();
    // Jobs without a stored next fire are computed grouped by schedule, so croner's parsed patterns are reused.
    rows.sort((a, b) => Number(storedNextFire(b) !== null) - Number(storedNextFire(a) !== null) || scheduleKey(a).localeCompare(scheduleKey(b)));
    for (const row of rows) this.track(row);
    this.unsubscribe = this.notifier.on('job.changed', ({ jobId }) => void this.reload(jobId));
    this.logger.log(`scheduler started with ${this.jobs.size} active job(s)`);
    this.arm();
  }

  /**
   * Stops firing; resolves once a tick under way has finished and the next fires it computed are
   * stored. When no other node is alive, the runs staged for instants still ahead are undone: no
   * node would start them at their instants, so those instants are left to the catch-up policy of
   * whichever node starts next, as any instant missed while no node ran.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.ticking;
    await this.storeNextFires();
    try {
      const unstaged = await this.runs.unstageAhead(this.node.id, this.config.daemon.nodeTimeoutMs);
      if (unstaged > 0) this.logger.log(`undid ${unstaged} run(s) staged for instants after this stop: no other node is alive to start them; the catch-up policy decides at the next start`);
    } catch (error) {
      this.logger.warn(`could not undo the runs staged for instants after this stop (they run at the next start): ${(error as Error).message}`);
    }
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

  /**
   * Tracks the job as `row` has it, unless a newer read of the row was applied already. Reads can
   * finish out of order (two reloads for changes made in quick succession, on two connections, or
   * a reload and the periodic sync): the older one, applied last, would bring back a schedule that
   * was changed or a job that was paused until the next sync.
   */
  private track(row: ScheduleRow): void {
    const stamp: RowStamp = { createdAt: new Date(row.createdAt).getTime(), version: row.version };
    const known = this.jobs.get(row.id) ?? this.untracked.get(row.id);
    if (known && olderThan(stamp, known)) return;
    if (!row.enabled || row.paused) {
      this.untrack(row.id);
      this.untracked.set(row.id, { ...stamp, at: this.clock.now() });
      return;
    }
    this.untracked.delete(row.id);
    const spec = { cron: row.cron, everyMs: row.everyMs, timezone: row.timezone };
    // A job that never fired is anchored on its creation, so a restart does not reset an interval.
    const anchor = new Date(row.anchorAt ?? row.createdAt);
    const stored = storedNextFire(row);
    const job: ScheduledJob = {
      id: row.id,
      spec,
      anchor,
      storedAnchor: row.anchorAt,
      next: stored ?? nextFireAfter(spec, anchor, anchor),
      catchup: row.catchup,
      overlap: row.overlap,
      catchupWindowMs: row.catchupWindowMs,
      jitterMs: row.jitterMs,
      ...stamp,
      declinedFor: null,
      group: null,
    };
    this.leaveGroup(this.jobs.get(job.id));
    this.jobs.set(job.id, job);
    if (stored === null) this.unstored.add(job);
    this.schedule(job);
  }

  private untrack(jobId: string): void {
    this.leaveGroup(this.jobs.get(jobId));
    this.jobs.delete(jobId);
    this.heap.remove(jobId);
  }

  /**
   * Puts a tracked job back on the heap at the time to stage its next instant, or at the instant
   * (plus its jitter) when staging it was declined; off the heap when it has none. A job waiting to
   * be staged joins the group of its instant (with its jitter): the more jobs share it, the earlier
   * they are staged (stageLeadMs), and the first of them to come up brings the group along (tick).
   */
  private schedule(job: ScheduledJob): void {
    if (this.jobs.get(job.id) !== job) return;
    this.leaveGroup(job);
    if (job.next === null) this.heap.remove(job.id);
    else if (job.declinedFor === job.next.getTime()) this.heap.upsert(job.id, dueAt(job));
    else this.heap.upsert(job.id, dueAt(job) - stageLeadMs(job.next, job.anchor, this.joinGroup(job)));
  }

  /** Adds the job to the staging group of its next instant (with its jitter); returns the group's size. */
  private joinGroup(job: ScheduledJob): number {
    const due = dueAt(job);
    let group = this.groups.get(due);
    if (!group) this.groups.set(due, (group = new Set()));
    group.add(job);
    job.group = due;
    return group.size;
  }

  private leaveGroup(job: ScheduledJob | undefined): void {
    if (job?.group == null) return;
    const group = this.groups.get(job.group);
    group?.delete(job);
    if (group?.size === 0) this.groups.delete(job.group);
    job.group = null;
  }

  /**
   * The jobs waiting to be staged for `due` whose own lead, with the group as large as it is, has
   * begun at `now` (not a job firing every few seconds, whose lead is shorter), taken off the heap
   * and out of the group.
   */
  private takeGroup(due: number, now: number): ScheduledJob[] {
    const group = this.groups.get(due);
    if (!group) return [];
    const sharing = group.size + 1;
    const taken = [...group].filter((member) => due - stageLeadMs(member.next!, member.anchor, sharing) <= now);
    for (const member of taken) {
      this.leaveGroup(member);
      this.heap.remove(member.id);
    }
    return taken;
  }

  /** The job's anchor moved to `anchor` (fired, skipped, or handled by another node): compute the next instant. */
  private advance(job: ScheduledJob, anchor: Date): void {
    job.anchor = anchor;
    job.storedAnchor = anchor;
    this.recompute(job);
  }

  /** A fire that failed: the anchor did not move, so the job is due again a moment later. */
  private retryShortly(job: ScheduledJob, now: number): void {
    if (this.jobs.get(job.id) !== job) return;
    this.leaveGroup(job);
    this.heap.upsert(job.id, now + RETRY_FIRE_MS);
  }

  private recompute(job: ScheduledJob): void {
    job.next = nextFireAfter(job.spec, job.anchor, job.anchor);
    this.unstored.add(job);
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
      const onTime: ScheduledJob[] = [];
      const late: ScheduledJob[] = [];
      const ahead: ScheduledJob[] = [];
      const sort = (job: ScheduledJob) => {
        if (dueAt(job) > now) {
          if (job.declinedFor === job.next!.getTime()) this.schedule(job);
          else ahead.push(job);
        } else (job.next!.getTime() <= lateFrom(job, now) ? late : onTime).push(job);
      };
      while ((this.heap.peek()?.at ?? Number.POSITIVE_INFINITY) <= now) {
        const job = this.jobs.get(this.heap.pop()!.jobId);
        if (!job?.next) continue;
        const group = job.group;
        this.leaveGroup(job);
        sort(job);
        // The first of an instant's group to come up is the one with the longest lead: the others go with it.
        if (group !== null) for (const member of this.takeGroup(group, now)) sort(member);
      }
      await this.fireOnTime(onTime, now);
      await forEachConcurrently(late, CATCHUP_CONCURRENCY, (job) => this.catchUp(job));
      await this.stage(ahead);
      if (now - this.lastSyncAt >= SYNC_INTERVAL_MS) {
        await this.syncChanged(now).catch((error: Error) => this.logger.warn(`could not look for changed jobs: ${error.message}`));
        await this.storeNextFires();
      }
    } catch (error) {
      this.logger.error(`scheduler tick failed: ${(error as Error).message}`, (error as Error).stack);
    }
  }

  /**
   * Fires each job's due instant, a batch of jobs per statement, several statements at once where
   * the database has the connections (each batch holds other jobs, so their order does not
   * matter). A job with several instants due (a per-second job after a pause of the loop) gets one
   * per round, oldest first.
   */
  private async fireOnTime(jobs: ScheduledJob[], now: number): Promise<void> {
    const parallel = this.runs.fireConcurrency;
    let pending = jobs;
    for (let round = 0; pending.length > 0 && round < MAX_ON_TIME; round++) {
      const again: ScheduledJob[] = [];
      // Full batches at once on PostgreSQL: 10,000 due jobs are recorded in 0.75 s instead of 1.2 s.
      // A thousand split across connections were recorded no sooner: the first part's runs start and take the cores.
      await forEachConcurrently(batchesOf(pending, FIRE_BATCH), parallel, async (batch) => {
        let runs: RunRow[];
        try {
          runs = await this.runs.fireMany(
            batch.map((job) => ({ jobId: job.id, scheduledFor: job.next!, anchorTo: job.next!, trigger: 'schedule', skipReason: null })),
            this.clockCheck.maxSkewMs,
          );
        } catch (error) {
          if (batch.length > 1 && !isTransientDatabaseError(error)) {
            // Something about one job, not the database: fire each on its own so the others are not held back.
            for (const job of batch) await this.fireAlone(job, now);
            return;
          }
          // The database may be away: keep the jobs due and try again shortly; their anchors did not move.
          this.logger.warn(`could not fire ${batch.length} job(s) (${batch[0].id}…): ${(error as Error).message}`);
          for (const job of batch) this.retryShortly(job, now);
          return;
        }
        for (const job of batch) this.advance(job, job.next!);
        await this.recorded(runs, batch).catch((error: Error) => this.logger.warn(`could not apply overlap policy replace: ${error.message}`));
        for (const job of batch) {
          if (job.next !== null && job.next.getTime() <= now) again.push(job);
          else this.schedule(job);
        }
      });
      pending = again;
    }
    for (const job of pending) this.schedule(job);
  }

  /**
   * Records the runs of instants due within their lead (stageLeadMs), in batches like fireOnTime.
   * A job declined (a run of it active) or a batch that failed is put back at its instant, to be
   * fired then; a job another node staged, or that is paused meanwhile, moves on like after a fire.
   */
  private async stage(jobs: ScheduledJob[]): Promise<void> {
    await forEachConcurrently(batchesOf(jobs, FIRE_BATCH), this.runs.fireConcurrency, async (batch) => {
      const requests = batch.map((job) => ({ jobId: job.id, scheduledFor: job.next!, dueAt: new Date(dueAt(job)) }));
      let results: StageResult[];
      try {
        results = await this.runs.stageMany(requests, MAX_STAGE_AHEAD_MS + this.clockCheck.maxSkewMs);
      } catch (error) {
        // Staging only saves time at the instant: fire these then, the way staging never happened.
        this.logger.warn(`could not stage ${batch.length} run(s) (${batch[0].id}…); they fire at their instants: ${(error as Error).message}`);
        for (const job of batch) this.declined(job);
        return;
      }
      const byJob = new Map(results.map((result) => [result.jobId, result]));
      const staged: ScheduledJob[] = [];
      const due = new Set<number>();
      batch.forEach((job, i) => {
        const result = byJob.get(job.id);
        if (result?.runId === null) {
          this.declined(job);
          return;
        }
        if (result) {
          staged.push(job);
          due.add(requests[i].dueAt.getTime());
        }
        this.advance(job, job.next!);
        this.schedule(job);
      });
      this.announceStaged(staged, [...due].sort((a, b) => a - b));
    });
  }

  private declined(job: ScheduledJob): void {
    job.declinedFor = job.next!.getTime();
    this.schedule(job);
  }

  /** Counts the staged runs, tells the job lists, and tells every executor when to claim them. */
  private announceStaged(staged: ScheduledJob[], due: number[]): void {
    if (staged.length === 0) return;
    for (const job of staged) this.metrics.fire(job.id, 'queued');
    this.notifier.publish('run.changed', { jobIds: staged.map((job) => job.id) });
    for (const dueAt of batchesOf(due, DUE_PER_SIGNAL)) this.notifier.publish('run.staged', { dueAt });
  }

  /** Fires a job's due instant with a statement of its own; on failure it is due again shortly. */
  private async fireAlone(job: ScheduledJob, now: number): Promise<void> {
    try {
      await this.fireOne(job, job.next!, job.next!, 'schedule', null);
      this.schedule(job);
    } catch (error) {
      this.logger.warn(`could not fire job ${job.id}: ${(error as Error).message}`);
      this.retryShortly(job, now);
    }
  }

  /** Fires what is due for a job with instants older than the misfire grace: those by the catch-up policy, then the on-time ones. */
  private async catchUp(job: ScheduledJob): Promise<void> {
    const now = this.clock.now();
    try {
      for (const step of planCatchup(job.spec, job.catchup, job.anchor, new Date(lateFrom(job, now)), new Date(now - job.catchupWindowMs))) {
        if (step.kind === 'skip') await this.fireOne(job, step.first, step.last, 'catchup', step.reason);
        else await this.fireOne(job, step.at, step.at, 'catchup', null);
      }
      // Catch-up moved the anchor past every older instant; what is left is on time.
      for (const instant of missedInstants(job.spec, job.anchor, new Date(now), MAX_ON_TIME).instants) {
        await this.fireOne(job, instant, instant, 'schedule', null);
      }
      // A stored next fire the schedule does not have (written by hand) leaves nothing fired: start over from the anchor.
      if (job.next !== null && job.next.getTime() <= now) this.recompute(job);
      this.schedule(job);
    } catch (error) {
      // The database may be away: keep the job due and try again shortly; the anchor did not move.
      this.logger.warn(`could not fire job ${job.id}: ${(error as Error).message}`);
      this.retryShortly(job, now);
    }
  }

  private async fireOne(job: ScheduledJob, first: Date, last: Date, trigger: 'schedule' | 'catchup', skipReason: string | null): Promise<void> {
    const runs = await this.runs.fireMany([{ jobId: job.id, scheduledFor: first, anchorTo: last, trigger, skipReason }], this.clockCheck.maxSkewMs);
    this.advance(job, last);
    await this.recorded(runs, [job]);
  }

  /** Counts and logs what a fire recorded, wakes the executors once, and applies the overlap policy `replace`. */
  private async recorded(runs: RunRow[], jobs: ScheduledJob[]): Promise<void> {
    const replacing: RunRow[] = [];
    for (const run of runs) {
      this.metrics.fire(run.jobId, run.status === 'queued' ? 'queued' : 'skipped');
      if (run.status !== 'queued') this.logger.log(`job ${run.jobId} instant ${run.scheduledFor?.toISOString()} skipped: ${run.error}`);
      else if (jobs.length === 1 ? jobs[0].overlap === 'replace' : this.jobs.get(run.jobId)?.overlap === 'replace') replacing.push(run);
    }
    const queued = runs.find((run) => run.status === 'queued');
    if (queued) this.notifier.publish('run.queued', { runId: queued.id, jobIds: [...new Set(runs.map((run) => run.jobId))] });
    for (const run of replacing) await this.replaceActive(run.jobId, run.id);
  }

  /** Overlap policy `replace`: the new run waits (see claimQueued) while the ones it replaces are stopped. */
  private async replaceActive(jobId: string, runId: string): Promise<void> {
    const replacing = await this.runs.replaceActive(jobId, runId);
    // Queued runs it replaced are cancelled already: the job's list entry changed.
    this.notifier.publish('run.changed', { jobIds: [jobId] });
    for (const replaced of replacing) {
      this.notifier.publish('run.cancel', { runId: replaced.id, jobIds: [jobId] });
      this.logger.log({ message: `run ${replaced.id} of job ${jobId} is being stopped: ${replaced.error}`, jobId, runId: replaced.id });
    }
  }

  private async syncChanged(now: number): Promise<void> {
    const since = new Date(this.lastSyncAt - SYNC_INTERVAL_MS);
    this.lastSyncAt = now;
    for (const [jobId, stamp] of this.untracked) if (now - stamp.at > UNTRACKED_MEMORY_MS) this.untracked.delete(jobId);
    for (const row of await this.jobsRepository.findChangedSince(since)) {
      // The window overlaps the last one (clock skew, late commits): rows already tracked at this version are skipped.
      if (row.enabled && !row.paused && this.jobs.get(row.id)?.version === row.version) continue;
      this.track(row);
    }
  }

  /** Writes the next fires computed since the last time; what cannot be written now is tried again with the next sync. */
  private async storeNextFires(): Promise<void> {
    const jobs = [...this.unstored].filter((job) => this.jobs.get(job.id) === job);
    this.unstored.clear();
    for (let i = 0; i < jobs.length; i += STORE_BATCH) {
      const batch = jobs.slice(i, i + STORE_BATCH);
      try {
        await this.jobsRepository.storeNextFires(batch.map((job) => ({ id: job.id, anchor: job.storedAnchor, next: job.next })));
      } catch (error) {
        for (const job of jobs.slice(i)) this.unstored.add(job);
        this.logger.warn(`could not store the next fires of ${jobs.length - i} job(s): ${(error as Error).message}`);
        return;
      }
    }
  }
}

/** When the job's next instant may start: the instant plus the job's jitter for it. */
function dueAt(job: ScheduledJob): number {
  return job.next!.getTime() + jitterFor(job.id, job.next!, job.jitterMs);
}

/** Instants up to this one are late (older than the misfire grace and the job's jitter): the catch-up policy decides. */
function lateFrom(job: ScheduledJob, now: number): number {
  return now - MISFIRE_GRACE_MS - job.jitterMs - 1;
}

function olderThan(read: RowStamp, known: RowStamp): boolean {
  return read.createdAt < known.createdAt || (read.createdAt === known.createdAt && read.version < known.version);
}

function scheduleKey(row: ScheduleRow): string {
  return `${row.timezone}\n${row.cron ?? ''}`;
}

/** A stable per-instant delay in [0, jitterMs), the same on every node. */
export function jitterFor(jobId: string, instant: Date, jitterMs: number): number {
  if (jitterMs <= 0) return 0;
  let hash = 2166136261;
  for (const char of `${jobId}@${instant.getTime()}`) hash = Math.imul(hash ^ char.charCodeAt(0), 16777619);
  return (hash >>> 0) % jitterMs;
}

/** `items` in consecutive slices of at most `size`. */
function batchesOf<T>(items: T[], size: number): T[][] {
  const batches: T[][] = [];
  for (let i = 0; i < items.length; i += size) batches.push(items.slice(i, i + size));
  return batches;
}

async function forEachConcurrently<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
