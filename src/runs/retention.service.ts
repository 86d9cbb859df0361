import { Inject, Injectable, Logger } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { CONFIG } from '../config/config.module.js';
import type { CronwardenConfig } from '../config/config.types.js';
import { Database } from '../database/database.js';
import { Notifier } from '../database/notifier.js';
import { MetricsService } from '../metrics/metrics.service.js';

/** Rows deleted per statement: small, so no sweep holds locks for long (on the embedded database, the whole session). */
const BATCH = 500;
const SWEEP_EVERY_MS = 10 * 60_000;

export interface SweepResult {
  runsDeleted: number;
  outputRunsCleared: number;
}

/**
 * Keeps the database from only growing: finished runs beyond `daemon.keepRuns` per job are
 * deleted (their output with them), and output of runs finished before `daemon.keepOutputFor`
 * is deleted while the run rows stay. Every node sweeps; the statements are idempotent.
 */
@Injectable()
export class RetentionService {
  private readonly logger = new Logger(RetentionService.name);
  private sweeping: Promise<SweepResult> | null = null;

  constructor(
    @Inject(CONFIG) private readonly config: CronwardenConfig,
    private readonly db: Database,
    private readonly metrics: MetricsService,
    private readonly notifier: Notifier,
  ) {}

  @Interval('retention', SWEEP_EVERY_MS)
  async onInterval(): Promise<void> {
    await this.sweep().catch((error: Error) => this.logger.warn(`retention sweep failed: ${error.message}`));
  }

  /** One sweep; concurrent calls share it. */
  sweep(): Promise<SweepResult> {
    this.sweeping ??= this.run().finally(() => (this.sweeping = null));
    return this.sweeping;
  }

  private async run(): Promise<SweepResult> {
    let runsDeleted = 0;
    const keepFor = (jobId: string) => this.config.jobs.get(jobId)?.keepRuns ?? this.config.daemon.keepRuns;
    const counts = await this.db.rows<{ jobId: string; n: number }>(`SELECT job_id AS "jobId", count(*)::int AS n FROM cw_runs GROUP BY job_id`);
    for (const { jobId, n } of counts.filter(({ jobId, n }) => n > keepFor(jobId))) {
      const deleted = await this.repeat(() => this.deleteOldRuns(jobId, keepFor(jobId)));
      // Behind a run of skipped instants, the latest run a list shows may be among those deleted.
      if (deleted > 0) this.notifier.publish('run.changed', { jobIds: [jobId] });
      runsDeleted += deleted;
    }
    // Jobs with their own keepOutputFor get a pass each; the global cutoff covers every other job.
    const overrides = [...this.config.jobs.values()].filter((job) => job.keepOutputForMs !== null);
    let outputRunsCleared = 0;
    for (const job of overrides) {
      outputRunsCleared += await this.repeat(() => this.clearOldOutput(new Date(Date.now() - job.keepOutputForMs!), { only: job.id }));
    }
    const cutoff = new Date(Date.now() - this.config.daemon.keepOutputForMs);
    outputRunsCleared += await this.repeat(() => this.clearOldOutput(cutoff, { except: overrides.map((job) => job.id) }));
    if (runsDeleted + outputRunsCleared > 0) {
      this.logger.log({ message: `retention: deleted ${runsDeleted} old runs, cleared output of ${outputRunsCleared} runs`, runsDeleted, outputRunsCleared });
    }
    this.metrics.retained(runsDeleted, outputRunsCleared);
    return { runsDeleted, outputRunsCleared };
  }

  private async repeat(batch: () => Promise<number>): Promise<number> {
    let total = 0;
    for (let deleted = BATCH; deleted === BATCH; total += deleted) deleted = await batch();
    return total;
  }

  private async deleteOldRuns(jobId: string, keep: number): Promise<number> {
    const rows = await this.db.rows(
      `DELETE FROM cw_runs WHERE id IN (
         SELECT id FROM cw_runs WHERE job_id = $1 AND status NOT IN ('queued', 'running')
         ORDER BY queued_at DESC, id DESC OFFSET $2 LIMIT $3)
       RETURNING id`,
      [jobId, keep, BATCH],
    );
    return rows.length;
  }

  private async clearOldOutput(cutoff: Date, jobs: { only?: string; except?: string[] }): Promise<number> {
    const rows = await this.db.rows<{ runId: string }>(
      `WITH old AS (
         SELECT r.id FROM cw_runs r
         WHERE r.finished_at < $1 AND EXISTS (SELECT 1 FROM cw_run_output o WHERE o.run_id = r.id)
           AND ($3::text IS NULL OR r.job_id = $3) AND NOT (r.job_id = ANY($4::text[]))
         LIMIT $2)
       DELETE FROM cw_run_output o USING old WHERE o.run_id = old.id RETURNING o.run_id AS "runId"`,
      [cutoff, BATCH, jobs.only ?? null, jobs.except ?? []],
    );
    return new Set(rows.map((row) => row.runId)).size;
  }
}
