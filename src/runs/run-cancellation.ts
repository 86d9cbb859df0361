import { Injectable, Logger } from '@nestjs/common';
import { Notifier } from '../database/notifier.js';
import { RunsRepository, type RunRow } from './runs.repository.js';

/**
 * Cancels runs: a queued one at once; a running one by recording the request and signalling the
 * node that runs it, whose executor kills the process group (SIGTERM, SIGKILL after the grace)
 * and records `cancelled`.
 */
@Injectable()
export class RunCancellation {
  private readonly logger = new Logger(RunCancellation.name);

  constructor(private readonly runs: RunsRepository, private readonly notifier: Notifier) {}

  /** Cancels one run if it is still active; returns its row as it is now (unchanged if it had ended). */
  async cancel(run: RunRow, by: string, reason: string): Promise<RunRow> {
    const cancelled = await this.runs.cancelQueued(run.id, by, reason);
    if (cancelled) {
      this.notifier.publish('run.changed', { jobIds: [run.jobId] });
      this.logger.log({ message: `run ${run.id} of job ${run.jobId} cancelled while queued by ${by}`, jobId: run.jobId, runId: run.id });
      return cancelled;
    }
    const requested = await this.runs.requestCancel(run.id, by, reason);
    if (requested) {
      this.notifier.publish('run.cancel', { runId: run.id, jobIds: [run.jobId] });
      this.logger.log({ message: `cancel of running run ${run.id} of job ${run.jobId} requested by ${by}`, jobId: run.jobId, runId: run.id });
      return requested;
    }
    // It ended (or started and ended) meanwhile: report how it is now.
    return (await this.runs.findById(run.id)) ?? run;
  }

  /** Cancels every queued and running run of a job (it was deleted). */
  async cancelActive(jobId: string, by: string, reason: string): Promise<void> {
    for (const run of await this.runs.findActiveForJob(jobId)) await this.cancel(run, by, reason);
  }
}
