import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { CONFIG } from '../config/config.module.js';
import type { CronwardenConfig, PipelineConfig } from '../config/config.types.js';
import { Notifier } from '../database/notifier.js';
import { DaemonEnvironment } from '../nodes/node-identity.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { ResourceSampler, type ResourceUse } from './resource-sampler.js';
import { LiveOutputs } from '../runs/live-output.js';
import { RunOutputRepository } from '../runs/run-output.repository.js';
import { RunsRepository, type ClaimedRun, type RunFinish, type RunPid } from '../runs/runs.repository.js';
import { WriteBatcher } from '../common/write-batcher.js';
import { buildChildEnv } from './child-env.js';
import { processStartToken } from './process-identity.js';
import { OutputCapture } from './output-capture.js';
import { OUTPUT_FLUSH_MS, OutputFlusher } from './output-flusher.js';
import { ProcessRunner } from './process-runner.js';
import { Clock } from '../common/clock.js';
import { isTransientDatabaseError } from '../common/errors.js';
import { RunFinisher } from './run-finisher.js';
import { runOutcome } from './run-outcome.js';

/**
 * A child's pid is written this long after it started. Most runs of a busy node are shorter: their
 * finish records the pid, and a burst costs no pid statement per run. A daemon that dies sooner
 * leaves that child unknown to the reaper (as a pid write still on its way always did).
 */
const PID_WRITE_DELAY_MS = 25;
/** How long to keep retrying to record a finished run while the database is away. */
const RECORD_RETRY_FOR_MS = 10 * 60_000;

/** Runs one claimed run to its end and records everything about it: pid, output, outcome. */
@Injectable()
export class RunRecorder {
  private readonly logger = new Logger('Run');

  constructor(
    @Inject(CONFIG) private readonly config: CronwardenConfig,
    private readonly runs: RunsRepository,
    private readonly output: RunOutputRepository,
    private readonly runner: ProcessRunner,
    private readonly notifier: Notifier,
    private readonly daemonEnv: DaemonEnvironment,
    private readonly metrics: MetricsService,
    private readonly sampler: ResourceSampler,
    private readonly finisher: RunFinisher,
    private readonly clock: Clock,
    private readonly live: LiveOutputs,
  ) {}

  private readonly pids = new WriteBatcher(async (entries: RunPid[]) => {
    await this.runs.setPids(entries);
    return entries.map(() => undefined);
  });
  /** Children started in the last PID_WRITE_DELAY_MS whose pids are not written yet, by run. */
  private readonly unwrittenPids = new Map<string, RunPid>();
  private pidTimer: NodeJS.Timeout | null = null;

  /** `processEnded` is called once the child has exited (or could not start), before its output and outcome are written. */
  async execute(run: ClaimedRun, signal: AbortSignal, processEnded: () => void = () => undefined): Promise<void> {
    const pipeline = this.config.pipelines.get(run.pipeline);
    if (!pipeline) {
      await this.record(run, emptyFinish('failed', `pipeline "${run.pipeline}" is not defined in ${this.config.file}`));
      return;
    }
    this.logger.log({ message: `run started: job ${run.jobId}, run ${run.id}, trigger ${run.trigger}`, jobId: run.jobId, runId: run.id, trigger: run.trigger, attempt: run.attempt });
    const { result, capture, usage, spawned } = await this.runAndStore(run, pipeline, signal, processEnded);
    const outcome = runOutcome(result, pipeline.timeoutMs, pipeline.killGraceMs, signal.aborted ? String(signal.reason ?? 'cancelled') : null);
    await this.record(run, {
      ...outcome,
      finishedAt: result.finishedAt,
      durationMs: result.durationMs,
      exitCode: result.exitCode,
      signal: result.signal,
      outputBytes: capture.totalBytes,
      outputDroppedBytes: capture.droppedBytes,
      outputTruncated: capture.truncated,
      pid: spawned?.pid ?? null,
      processStart: spawned?.processStart ?? null,
      ...usage,
    });
  }

  /**
   * Runs the child while its output is flushed to the database; readers on this node read it from
   * memory until all of it is stored.
   */
  private async runAndStore(run: ClaimedRun, pipeline: PipelineConfig, signal: AbortSignal, processEnded: () => void) {
    const capture = new OutputCapture(pipeline.maxOutputBytes);
    const flusher = new OutputFlusher(run.id, capture, this.output, this.clock);
    const stopServing = this.live.add(run.id, capture);
    const timer = setInterval(() => void flusher.flush(), OUTPUT_FLUSH_MS);
    let stopSampling: (() => ResourceUse) | undefined;
    let spawned: RunPid | undefined;
    try {
      const result = await this.runner.run(this.spec(run, pipeline), {
        signal,
        output: capture,
        onSpawn: (pid, { ended }) => {
          this.metrics.runStarted(run.jobId, run.trigger, run.scheduledFor, new Date());
          if (ended) {
            // Gone already: nothing to sample or to find again after a crash; the finish records the pid.
            spawned = { runId: run.id, pid, processStart: null };
            return;
          }
          stopSampling = this.sampler.track(pid);
          spawned = { runId: run.id, pid, processStart: processStartToken(pid) };
          this.writePidSoon(spawned);
        },
      });
      // The finish records the pid: a child that ended before its pid was written needs no write of its own.
      this.unwrittenPids.delete(run.id);
      clearInterval(timer);
      const usage = stopSampling?.() ?? {};
      processEnded();
      await retrying(() => flusher.flush(true));
      return { result, capture, usage, spawned };
    } finally {
      clearInterval(timer);
      // Before the finish is recorded: a reader that sees the run ended reads the table, complete by then.
      stopServing();
    }
  }

  /**
   * Writes a child's pid (for the reaper of a node that died) PID_WRITE_DELAY_MS after it started,
   * together with the others started meanwhile. Best effort: the finish records the pid too.
   */
  private writePidSoon(spawned: RunPid): void {
    this.unwrittenPids.set(spawned.runId, spawned);
    this.pidTimer ??= setTimeout(() => {
      this.pidTimer = null;
      const due = [...this.unwrittenPids.values()];
      this.unwrittenPids.clear();
      for (const entry of due) void this.pids.push(entry).catch(() => undefined);
    }, PID_WRITE_DELAY_MS).unref();
  }

  private spec(run: ClaimedRun, pipeline: PipelineConfig) {
    const env = buildChildEnv({
      daemonEnv: this.daemonEnv.variables,
      passEnv: pipeline.passEnv,
      pipelineEnv: pipeline.env,
      run: { runId: run.id, jobId: run.jobId, trigger: run.trigger, scheduledFor: run.scheduledFor, attempt: run.attempt, params: run.params },
    });
    return { command: pipeline.command, shell: pipeline.shell, cwd: pipeline.cwd, env, timeoutMs: pipeline.timeoutMs, killGraceMs: pipeline.killGraceMs, maxOutputBytes: pipeline.maxOutputBytes };
  }

  private async record(run: ClaimedRun, finish: RunFinish): Promise<void> {
    const ended = await retrying(() => this.finisher.finish(run, run.pipeline, finish));
    const fields = { jobId: run.jobId, runId: run.id, status: finish.status, exitCode: finish.exitCode, signal: finish.signal, durationMs: finish.durationMs };
    const message = `run ended: job ${run.jobId}, run ${run.id}, ${finish.status}${finish.error ? ` (${finish.error})` : ''} in ${finish.durationMs} ms`;
    if (finish.status === 'succeeded') this.logger.log({ message, ...fields });
    else this.logger.warn({ message, ...fields, error: finish.error });
    this.metrics.runFinished(run.jobId, finish.status, finish.durationMs, finish.outputBytes);
    if (ended) this.notifier.publish('run.finished', { runId: run.id, status: finish.status, jobIds: [run.jobId] });
    else this.logger.warn({ message: `run ${run.id} of job ${run.jobId} was no longer running when it ended here (another node reaped it); its record stays as that node left it`, jobId: run.jobId, runId: run.id });
  }
}

function emptyFinish(status: RunFinish['status'], error: string): RunFinish {
  return { status, error, finishedAt: new Date(), durationMs: 0, exitCode: null, signal: null, outputBytes: 0, outputDroppedBytes: 0, outputTruncated: false };
}

/**
 * Retries a database write with backoff until it succeeds or RECORD_RETRY_FOR_MS has passed, as
 * long as the error is one that passes (the database away or busy); any other fails at once.
 */
async function retrying<T>(work: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + RECORD_RETRY_FOR_MS;
  for (let delay = 250; ; delay = Math.min(delay * 2, 5_000)) {
    try {
      return await work();
    } catch (error) {
      if (!isTransientDatabaseError(error) || Date.now() + delay > deadline) throw error;
      await sleep(delay);
    }
  }
}
