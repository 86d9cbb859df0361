import { Inject, Injectable, Logger } from '@nestjs/common';
import { CONFIG } from '../config/config.module.js';
import type { CronwardenConfig } from '../config/config.types.js';
import { Notifier } from '../database/notifier.js';
import { ClockCheck } from '../nodes/clock-check.js';
import { NodeIdentity } from '../nodes/node-identity.js';
import { RunsRepository, type ClaimedRun } from '../runs/runs.repository.js';
import { RunFinisher, SHUTDOWN_REASON, type CarriedClaim, type ClaimCarrier } from './run-finisher.js';
import { RunRecorder } from './run-recorder.js';

interface ActiveRun {
  controller: AbortController;
  done: Promise<void>;
  /** Its process has ended; what is left is recording the run, which holds no slot. */
  processEnded: boolean;
}

/** After claiming at a staged instant, look once more this much later (the clocks' skew is a measurement). */
const DUE_RECHECK_MS = 25;

/**
 * Claims queued runs up to `maxConcurrentRuns` and runs each as a supervised child process. Wakes
 * on a signal (a run queued, a slot freed), at the instants of staged runs, and polls as a
 * fallback for lost signals.
 *
 * A slot is a process: it is free again as soon as the process has ended, while its output and
 * outcome are still being written, so that the next run does not wait for those round trips. Runs
 * being recorded are bounded too (another `maxConcurrentRuns`), so a slow database cannot make
 * them pile up. Jobs that start one run at a time still wait for the recorded end: the claim
 * reads the database's `running`.
 */
@Injectable()
export class ExecutorService implements ClaimCarrier {
  private readonly logger = new Logger(ExecutorService.name);
  private readonly active = new Map<string, ActiveRun>();
  private accepting = false;
  /** The claim loop under way, or the last one (shutdown waits for it). */
  private claiming: Promise<void> = Promise.resolve();
  /** Whether a claim loop runs: set and cleared by the loop itself, so no claim falls between two loops. */
  private claimLoopRuns = false;
  private claimAgain = false;
  private poll: NodeJS.Timeout | null = null;
  private unsubscribe: Array<() => void> = [];
  /** Instants of staged runs still to claim at (epoch ms by the database's clock), ascending. */
  private dueAt: number[] = [];
  private dueTimer: NodeJS.Timeout | null = null;

  constructor(
    @Inject(CONFIG) private readonly config: CronwardenConfig,
    private readonly runs: RunsRepository,
    private readonly recorder: RunRecorder,
    private readonly notifier: Notifier,
    private readonly node: NodeIdentity,
    private readonly clockCheck: ClockCheck,
    private readonly finisher: RunFinisher,
  ) {}

  start(): void {
    this.accepting = true;
    this.finisher.carryClaimsOf(this);
    this.unsubscribe = [
      this.notifier.on('run.queued', () => void this.pump()),
      // A run that ended may let a waiting run of a `queue` or `replace` job start.
      this.notifier.on('run.finished', () => void this.pump()),
      this.notifier.on('run.cancel', ({ runId }) => void this.abortRequested([runId])),
      this.notifier.on('run.staged', ({ dueAt }) => this.claimAt(dueAt)),
    ];
    this.poll = setInterval(() => {
      void this.pump();
      if (this.active.size > 0) void this.abortRequested([...this.active.keys()]);
    }, this.config.daemon.pollIntervalMs);
    void this.pump();
  }

  get runningCount(): number {
    return this.active.size;
  }

  /** Kills a run running on this node; the run is recorded `cancelled` with the reason. */
  abortLocal(runId: string, reason?: string): boolean {
    const run = this.active.get(runId);
    run?.controller.abort(reason);
    return run !== undefined;
  }

  /**
   * Kills those of the given runs of this node that someone asked to cancel (through any node) or
   * that are no longer `running` in the database (reaped), with the reason recorded there.
   */
  private async abortRequested(runIds: string[]): Promise<void> {
    const local = runIds.filter((id) => this.active.has(id));
    if (local.length === 0) return;
    try {
      for (const run of await this.runs.findCancelRequested(local)) {
        this.abortLocal(run.id, run.status === 'running' ? run.error ?? `cancelled by ${run.cancelRequestedBy}` : `the run was ${run.status} meanwhile (${run.error})`);
      }
    } catch (error) {
      this.logger.warn(`could not check for cancel requests: ${(error as Error).message}`);
    }
  }

  /** Kills every run on this node now (SIGTERM, SIGKILL after each pipeline's grace); each is recorded `cancelled`. */
  abortAll(reason: string): void {
    for (const run of this.active.values()) run.controller.abort(reason);
  }

  /**
   * Stops claiming at once, lets running runs finish for up to `graceMs`, then kills what is
   * left (SIGTERM, SIGKILL after the pipeline's grace) and waits until each is recorded.
   */
  async shutdown(graceMs: number, reason = SHUTDOWN_REASON): Promise<void> {
    this.accepting = false;
    this.finisher.carryClaimsOf(null);
    if (this.poll) clearInterval(this.poll);
    if (this.dueTimer) clearTimeout(this.dueTimer);
    this.dueAt = [];
    this.unsubscribe.forEach((off) => off());
    // A claim under way may still hand over runs: they are ours now and must end recorded.
    await this.claiming;
    const all = () => Promise.allSettled([...this.active.values()].map((run) => run.done));
    let graceTimer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<void>((resolve) => (graceTimer = setTimeout(resolve, graceMs)));
    await Promise.race([all(), graceOver]);
    clearTimeout(graceTimer);
    this.abortAll(reason);
    await all();
  }

  /**
   * Claims at each of these instants, when staged runs become claimable, and once more shortly
   * after (in case this node's clock runs ahead of the database's by more than measured).
   */
  private claimAt(instants: number[]): void {
    if (!this.accepting) return;
    const merged = new Set(this.dueAt);
    for (const at of instants) merged.add(at).add(at + DUE_RECHECK_MS);
    this.dueAt = [...merged].sort((a, b) => a - b);
    this.armDue();
  }

  /** One timer for the earliest instant, set by this node's clock: ahead of the database's by the measured skew, or not behind. */
  private armDue(): void {
    if (this.dueTimer) clearTimeout(this.dueTimer);
    this.dueTimer = null;
    if (this.dueAt.length === 0 || !this.accepting) return;
    const skew = Math.max(0, this.clockCheck.currentSkewMs ?? 0);
    // The database's now() is a transaction's start: a millisecond later it has passed the instant.
    this.dueTimer = setTimeout(() => {
      const reached = Date.now() - skew;
      let passed = 0;
      while (passed < this.dueAt.length && this.dueAt[passed] < reached) passed++;
      this.dueAt = this.dueAt.slice(passed);
      void this.pump();
      this.armDue();
    }, Math.max(0, this.dueAt[0] + skew + 1 - Date.now()));
  }

  /** Claims as many runs as there are free slots, again while each claim fills them all. */
  private pump(): Promise<void> {
    if (this.claimLoopRuns) {
      this.claimAgain = true;
      return this.claiming;
    }
    this.claiming = this.claimLoop(null);
    return this.claiming;
  }

  /**
   * For RunFinisher: a claim for the free slots, to go in the statement that writes the finishes
   * of runs that ended (one round trip where the claim and the finish took two). Null while a
   * claim is under way, or with no slot free.
   */
  claimAlong(): CarriedClaim | null {
    const limit = this.freeSlots();
    if (!this.accepting || this.claimLoopRuns || limit <= 0) return null;
    let deliver!: (runs: ClaimedRun[]) => void;
    let fail!: (error: unknown) => void;
    const runs = new Promise<ClaimedRun[]>((resolve, reject) => ((deliver = resolve), (fail = reject)));
    this.claiming = this.claimLoop({ limit, runs });
    return { nodeId: this.node.id, limit, deliver, fail };
  }

  /** Runs that may be claimed now: a process each, within the bound on runs still being recorded. */
  private freeSlots(): number {
    const max = this.config.daemon.maxConcurrentRuns;
    let live = 0;
    for (const run of this.active.values()) if (!run.processEnded) live++;
    return Math.min(max - live, 2 * max - this.active.size);
  }

  /**
   * Claims until the slots are full or nothing more is claimable; the first claim may be one already
   * sent (`carried`). Leaves the claim to finishes waiting to be written: they carry it.
   */
  private async claimLoop(carried: { limit: number; runs: Promise<ClaimedRun[]> } | null): Promise<void> {
    this.claimLoopRuns = true;
    try {
      do {
        this.claimAgain = false;
        // A carried claim is on its way already: its runs are ours, even if we stopped accepting meanwhile.
        const free = carried?.limit ?? this.freeSlots();
        if (!carried && (!this.accepting || free <= 0 || this.finisher.finishesWaiting)) break;
        const claimed = await (carried?.runs ?? this.runs.claimQueued(this.node.id, free));
        carried = null;
        if (claimed.length > 0) this.notifier.publish('run.changed', { jobIds: [...new Set(claimed.map((run) => run.jobId))] });
        for (const run of claimed) this.launch(run);
        if (claimed.length === free) this.claimAgain = true;
      } while (this.claimAgain);
    } catch (error) {
      this.logger.warn(`could not claim queued runs: ${(error as Error).message}`);
    } finally {
      this.claimLoopRuns = false;
    }
  }

  private launch(run: ClaimedRun): void {
    const controller = new AbortController();
    const processEnded = () => {
      const active = this.active.get(run.id);
      if (active) active.processEnded = true;
      // Not at once: a run with no output left to write has its finish queued by then, and the
      // claim for this slot goes with it (claimAlong). Otherwise this claims on its own.
      setImmediate(() => void this.pump());
    };
    const done = this.recorder
      .execute(run, controller.signal, processEnded)
      .catch((error: Error) => this.logger.error(`run ${run.id} of job ${run.jobId} could not be recorded: ${error.message}`))
      .finally(() => {
        this.active.delete(run.id);
        void this.pump();
      });
    this.active.set(run.id, { controller, done, processEnded: false });
  }
}

