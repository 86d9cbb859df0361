import { Inject, Injectable, Logger } from '@nestjs/common';
import { CONFIG } from '../config/config.module.js';
import type { CronwardenConfig, NotifyEvent } from '../config/config.types.js';
import { Notifier } from '../database/notifier.js';
import { JobsRepository } from '../jobs/jobs.repository.js';
import { renderOutput } from '../runs/output-text.js';
import { RunOutputRepository } from '../runs/run-output.repository.js';
import { RunsRepository, type RunRow } from '../runs/runs.repository.js';
import { runView } from '../runs/runs.view.js';
import { jobView } from '../jobs/jobs.view.js';
import { NotificationsRepository } from './notifications.repository.js';
import { postWebhook } from './webhook.js';

/** After a pass that took a full batch, the next one follows this soon. */
const POLL_MS = 1_000;
/**
 * With nothing pending (or nothing due sooner), a node still looks this often: for deliveries that
 * a node recorded and stopped before posting, and leases that ran out. Deliveries recorded here are
 * posted at once, and a pending one (a retry, from any node) is looked for when it falls due.
 */
export const IDLE_POLL_MS = 10_000;
/** How often each node looks for jobs that turned late. */
const FRESHNESS_CHECK_MS = 30_000;
const BATCH = 10;
const LEASE_MS = 30_000;
const TIMEOUT_MS = 10_000;
/** Attempts before a delivery is given up: retried after 1, 2, 4, 8, 16 s. */
export const MAX_ATTEMPTS = 6;
const OUTPUT_TAIL_BYTES = 4_096;
const FAILURES = new Set(['failed', 'timed_out', 'abandoned']);

/**
 * Tells webhooks how runs ended. Runs never wait for it: a finished run only records deliveries to
 * make, and a worker on every node posts them, retrying with backoff; each attempt's outcome is
 * kept on the delivery, visible with the run.
 */
@Injectable()
export class NotificationsService {
  private readonly logger = new Logger(NotificationsService.name);
  private timer: NodeJS.Timeout | null = null;
  /** When (Date.now()) the next pass is planned; null when none is (stopped, or a pass under way). */
  private nextPassAt: number | null = null;
  private stopped = true;
  private freshnessTimer: NodeJS.Timeout | null = null;
  private working: Promise<void> | null = null;
  /** Asked for a pass while one was under way: the next follows at once. */
  private passAgain = false;
  private unsubscribe: (() => void) | null = null;
  /** Whether any pipeline or job has a target; the config stays as loaded while the daemon runs. */
  private readonly notifiesAnyone: boolean;

  constructor(
    @Inject(CONFIG) private readonly config: CronwardenConfig,
    private readonly deliveries: NotificationsRepository,
    private readonly runs: RunsRepository,
    private readonly output: RunOutputRepository,
    private readonly jobs: JobsRepository,
    private readonly notifier: Notifier,
  ) {
    this.notifiesAnyone = [...config.pipelines.values(), ...config.jobs.values()].some((owner) => (owner.notify?.length ?? 0) > 0);
  }

  start(): void {
    this.unsubscribe = this.notifier.on('run.finished', ({ runId }) => void this.recordFor(runId).catch((error: Error) => {
      this.logger.warn(`could not record notifications for run ${runId}: ${error.message}`);
    }));
    this.stopped = false;
    void this.deliverDue();
    this.freshnessTimer = setInterval(() => void this.checkFreshness().catch((error: Error) => {
      this.logger.warn(`freshness check failed: ${error.message}`);
    }), FRESHNESS_CHECK_MS);
  }

  /**
   * The dead-man's switch, told: each config job whose targets want `late` and whose health is
   * `late` gets one delivery per episode (counted from its last success), whichever node sees it first.
   */
  async checkFreshness(): Promise<void> {
    const now = new Date();
    for (const job of this.config.jobs.values()) {
      const targets = this.targetsOf(job.pipeline, job.id).filter((target) => target.on.includes('late'));
      if (targets.length === 0) continue;
      const row = await this.jobs.findById(job.id);
      if (!row || !row.enabled) continue;
      const freshness = (await this.runs.freshness([row.id])).get(row.id);
      const view = jobView(row, null, now, freshness);
      if (view.health !== 'late') continue;
      const since = view.lastSuccessAt ?? view.createdAt;
      const payload = { event: 'late', job: { id: row.id, name: row.name }, lastSuccessAt: view.lastSuccessAt, expectSuccessWithin: view.expectSuccessWithin, link: `/api/cron/jobs/${row.id}` };
      let recorded = false;
      for (const target of targets) recorded = (await this.deliveries.enqueueForJob(row.id, target.url, 'late', since, target.secret, payload)) || recorded;
      if (recorded) void this.deliverDue();
    }
  }

  private targetsOf(pipeline: string, jobId: string) {
    return [...(this.config.pipelines.get(pipeline)?.notify ?? []), ...(this.config.jobs.get(jobId)?.notify ?? [])];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.timer) clearTimeout(this.timer);
    this.nextPassAt = null;
    if (this.freshnessTimer) clearInterval(this.freshnessTimer);
    await this.working;
  }

  /** Records the deliveries a finished run calls for; idempotent, so every node may do it. */
  async recordFor(runId: string): Promise<void> {
    // Most daemons notify no one: then a finished run costs no reads here.
    if (!this.notifiesAnyone) return;
    const run = await this.runs.findById(runId);
    const job = run ? await this.jobs.findById(run.jobId) : null;
    if (!run || !job) return;
    const targets = this.targetsOf(job.pipeline, job.id);
    if (targets.length === 0) return;
    const events = await this.eventsOf(run);
    let recorded = false;
    for (const target of targets) {
      for (const event of events.filter((e) => target.on.includes(e))) {
        recorded = (await this.deliveries.enqueue(run.id, target.url, event, target.secret, await this.payload(event, run, job.name))) || recorded;
      }
    }
    if (recorded) void this.deliverDue();
  }

  /** Milliseconds until the next planned pass; null when none is planned (stopped, or a pass under way). */
  get nextPassInMs(): number | null {
    return this.nextPassAt === null ? null : Math.max(0, this.nextPassAt - Date.now());
  }

  /** Posts the deliveries that are due, then plans the next pass; one pass at a time per node. */
  deliverDue(): Promise<void> {
    if (this.working) {
      this.passAgain = true;
      return this.working;
    }
    this.passAgain = false;
    this.working = this.deliverBatch()
      .then((nextInMs) => this.planPass(this.passAgain ? 0 : nextInMs))
      .finally(() => (this.working = null));
    return this.working;
  }

  private planPass(inMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.nextPassAt = null;
    if (this.stopped) return;
    this.nextPassAt = Date.now() + inMs;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.deliverDue();
    }, inMs);
  }

  /** One pass; resolves how soon the next should be: at once-ish after a full batch, else when the next pending delivery falls due. */
  private async deliverBatch(): Promise<number> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.nextPassAt = null;
    try {
      const claimed = await this.deliveries.claimDue(BATCH, LEASE_MS);
      for (const delivery of claimed) {
        const failure = await postWebhook(delivery.url, delivery.payload, delivery.secret, TIMEOUT_MS);
        if (failure === null) {
          await this.deliveries.delivered(delivery.id);
          continue;
        }
        const retryIn = delivery.attempts < MAX_ATTEMPTS ? 1_000 * 2 ** (delivery.attempts - 1) : null;
        await this.deliveries.attemptFailed(delivery.id, failure, retryIn);
        const what = retryIn === null ? 'giving up' : `retrying in ${retryIn} ms`;
        this.logger.warn({ message: `webhook ${delivery.event} for run ${delivery.runId} to ${new URL(delivery.url).host} failed (${failure}); ${what}`, runId: delivery.runId });
      }
      if (claimed.length === BATCH) return POLL_MS;
      // Read after the posts: a retry just planned, or a delivery recorded meanwhile, is seen here.
      const nextDue = await this.deliveries.msUntilNextDue();
      // Due yet not claimed: another node holds it this instant; look again shortly rather than at once.
      if (nextDue === 0 && claimed.length === 0) return POLL_MS;
      return Math.min(nextDue ?? IDLE_POLL_MS, IDLE_POLL_MS);
    } catch (error) {
      this.logger.warn(`webhook delivery pass failed: ${(error as Error).message}`);
      return POLL_MS;
    }
  }

  private async eventsOf(run: RunRow): Promise<NotifyEvent[]> {
    const events: NotifyEvent[] = [];
    if (['succeeded', 'failed', 'timed_out', 'abandoned', 'cancelled'].includes(run.status)) events.push(run.status as NotifyEvent);
    if (run.status === 'succeeded' && FAILURES.has((await this.deliveries.previousOutcome(run.jobId, run.id)) ?? '')) events.push('recovered');
    return events;
  }

  private async payload(event: NotifyEvent, run: RunRow, jobName: string) {
    const text = renderOutput(await this.output.read(run.id), run.outputDroppedBytes);
    const tail = Buffer.from(text).subarray(-OUTPUT_TAIL_BYTES).toString('utf8');
    return {
      event,
      job: { id: run.jobId, name: jobName },
      run: runView(run),
      outputTail: tail,
      link: `/api/cron/runs/${run.id}`,
    };
  }
}
