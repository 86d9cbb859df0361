import { performance } from 'node:perf_hooks';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { CONFIG } from '../config/config.module.js';
import type { CronwardenConfig } from '../config/config.types.js';
import { Database } from '../database/database.js';
import { Notifier } from '../database/notifier.js';
import { ExecutorService } from '../executor/executor.service.js';
import { bootId, isSameProcess, processStartToken } from '../executor/process-identity.js';
import { killProcessGroup, processGroupAlive } from '../executor/process-group.js';
import { RunFinisher } from '../executor/run-finisher.js';
import { NodeIdentity } from './node-identity.js';
import { ReaperRepository, type AbandonedRun } from './reaper.repository.js';

/** Abandoned runs are looked at again for this long, in case this node's clock runs behind the database's. */
const ORPHAN_LOOKBACK_MS = 60_000;
const DEFAULT_KILL_GRACE_MS = 10_000;

/**
 * Housekeeping that keeps any run from staying `running` or `queued` forever, on every node: runs
 * of nodes that stopped heartbeating become `abandoned` (and are retried if their policy allows),
 * runs queued past `queueTimeout` fail, and the process groups of this host's abandoned runs that
 * still live are killed — at start, after a crash, and whenever a run of this host is reaped.
 */
@Injectable()
export class ReaperService {
  private readonly logger = new Logger('Reaper');
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private orphansSince: Date | null = null;
  /** Since when (monotonic ms) this node's heartbeats have reached the database without a miss; null after a miss. */
  private reachableSince: number | null = null;

  constructor(
    @Inject(CONFIG) private readonly config: CronwardenConfig,
    private readonly db: Database,
    private readonly reaper: ReaperRepository,
    private readonly finisher: RunFinisher,
    private readonly executor: ExecutorService,
    private readonly notifier: Notifier,
    private readonly node: NodeIdentity,
  ) {}

  /** Runs one pass now (orphans of a crash are killed at start), then one per heartbeat interval. */
  start(): void {
    this.timer = setInterval(() => void this.tick(), this.config.daemon.heartbeatIntervalMs);
    void this.tick();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.ticking;
  }

  /** Told of each heartbeat, so that reaping waits until every live node had time to heartbeat after an outage. */
  noteHeartbeat(reached: boolean): void {
    if (!reached) this.reachableSince = null;
    else this.reachableSince ??= performance.now();
  }

  /** One pass; resolves when done. Overlapping calls share the pass under way. A failure is logged, never thrown. */
  tick(): Promise<void> {
    this.ticking ??= this.pass().finally(() => (this.ticking = null));
    return this.ticking;
  }

  private async pass(): Promise<void> {
    try {
      await this.reapDeadNodes();
      await this.failStaleQueued();
      await this.killOrphans();
    } catch (error) {
      this.logger.warn(`housekeeping failed: ${(error as Error).message}`);
    }
  }

  private async reapDeadNodes(): Promise<void> {
    // After the database was away every heartbeat is old: reaping at once would declare live nodes dead.
    if (this.reachableSince === null || performance.now() - this.reachableSince < this.config.daemon.nodeTimeoutMs) return;
    // Almost every pass finds nothing: say so with one read, not a transaction. A node found dead meanwhile waits for the next pass.
    if (!(await this.reaper.anyRunsOfDeadNodes(this.config.daemon.nodeTimeoutMs))) return;
    const ended = await this.db.transaction(async (runner) => {
      const runs = await this.reaper.abandonRunsOfDeadNodes(this.config.daemon.nodeTimeoutMs, this.node.id, runner);
      const withRetries = [];
      for (const run of runs) withRetries.push({ run, ...(await this.finisher.queueFollowUps(run, run.pipeline, runner)) });
      return withRetries;
    });
    for (const { run, retry, chained } of ended) {
      this.logger.warn({ message: `run ${run.id} of job ${run.jobId} abandoned: ${run.error}`, jobId: run.jobId, runId: run.id, status: 'abandoned' });
      this.notifier.publish('run.finished', { runId: run.id, status: 'abandoned', jobIds: [run.jobId] });
      this.finisher.announce({ run, retry, chained });
    }
  }

  private async failStaleQueued(): Promise<void> {
    for (const run of await this.reaper.failStaleQueued(this.config.daemon.queueTimeoutMs)) {
      this.logger.warn({ message: `run ${run.id} of job ${run.jobId} failed: ${run.error}`, jobId: run.jobId, runId: run.id, status: 'failed' });
      this.notifier.publish('run.finished', { runId: run.id, status: 'failed', jobIds: [run.jobId] });
    }
  }

  /** Stops what still runs of this host's abandoned runs: through the executor if it is ours, else by its process group. */
  private async killOrphans(): Promise<void> {
    const boot = bootId();
    if (!boot) return;
    const checkedAt = Date.now();
    const runs = await this.reaper.findAbandonedOnHost(this.node.hostname, boot, this.orphansSince);
    this.orphansSince = new Date(checkedAt - ORPHAN_LOOKBACK_MS);
    for (const run of runs) {
      const reason = `the run was abandoned (${run.error ?? 'its node was declared dead'})`;
      if (this.executor.abortLocal(run.id, reason)) continue;
      if (run.pid !== null && isSameProcess(run.pid, run.processStart)) this.killOrphan(run, run.pid);
    }
  }

  /** SIGTERM to the orphaned group, SIGKILL after the pipeline's kill grace if any of it lives on. */
  private killOrphan(run: AbandonedRun, pid: number): void {
    if (!killProcessGroup(pid, 'SIGTERM')) return;
    this.logger.warn({ message: `killing the process group ${pid} of abandoned run ${run.id} of job ${run.jobId}: it outlived its node`, jobId: run.jobId, runId: run.id });
    const graceMs = this.config.pipelines.get(run.pipeline)?.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
    // Not cleared on stop: an orphan must not outlive this node's shutdown either.
    const timer = setTimeout(() => {
      // The pid is ours while the leader is the same process or the group lives on without it (Linux keeps a group's id from reuse).
      if (processGroupAlive(pid) && (isSameProcess(pid, run.processStart) || processStartToken(pid) === null)) killProcessGroup(pid, 'SIGKILL');
    }, graceMs);
    timer.unref();
  }
}

