import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { Database } from '../database/database.js';

/**
 * Job ids become label values for this many jobs; runs of further jobs are counted under
 * `job="_other"`, so thousands of API-created jobs cannot blow up the series count.
 */
export const MAX_JOB_LABELS = 100;
const OTHER = '_other';
/**
 * How often the event-loop delay histogram (`cronwarden_nodejs_eventloop_lag_*`) takes a sample.
 * prom-client's default, 10 ms, wakes an idle daemon 100 times a second: about 0.6 % of a core on
 * its own, more than all the daemon's timers and polls together. Once a second still records any
 * stall that spans a sample (a stall of 1 s or more always; a shorter one in proportion to its length).
 */
export const EVENT_LOOP_SAMPLE_MS = 1_000;

/** The daemon's Prometheus metrics, in a registry of its own (several daemons may share a test process). */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly labelledJobs = new Set<string>();
  private readonly started = new Counter({ name: 'cronwarden_runs_started_total', help: 'Runs started on this node', labelNames: ['job', 'trigger'], registers: [this.registry] });
  private readonly finished = new Counter({ name: 'cronwarden_runs_finished_total', help: 'Runs finished on this node, by final status', labelNames: ['job', 'status'], registers: [this.registry] });
  private readonly fired = new Counter({ name: 'cronwarden_fires_total', help: 'Scheduled instants recorded by this node, queued or skipped', labelNames: ['job', 'outcome'], registers: [this.registry] });
  private readonly duration = new Histogram({
    name: 'cronwarden_run_duration_seconds', help: 'Run duration', labelNames: ['job'], registers: [this.registry],
    buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 12 * 3600],
  });
  private readonly lateness = new Histogram({
    name: 'cronwarden_fire_lateness_seconds', help: 'Child process start minus scheduled instant, for scheduled runs', registers: [this.registry],
    buckets: [0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 300],
  });
  private readonly outputBytes = new Counter({ name: 'cronwarden_output_bytes_total', help: 'Bytes of output children wrote (kept or dropped)', labelNames: ['job'], registers: [this.registry] });
  private readonly httpRequests = new Histogram({
    name: 'cronwarden_http_request_duration_seconds', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'], registers: [this.registry],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  });
  private readonly retention = new Counter({ name: 'cronwarden_retention_deleted_total', help: 'Rows removed by the retention sweep: old runs, and runs whose output expired', labelNames: ['kind'], registers: [this.registry] });
  /** Set by the daemon: how old the scheduler's last tick is. */
  tickAge: () => number = () => 0;

  constructor(db: Database) {
    collectDefaultMetrics({ register: this.registry, prefix: 'cronwarden_', eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
    const tickAge = () => this.tickAge() / 1000;
    new Gauge({
      name: 'cronwarden_scheduler_tick_age_seconds', help: "Seconds since the scheduler loop's last tick", registers: [this.registry],
      collect() {
        this.set(tickAge());
      },
    });
    new Gauge({
      name: 'cronwarden_runs', help: 'Runs queued or running, across all nodes', labelNames: ['status'], registers: [this.registry],
      async collect() {
        const rows = await db.rows<{ status: string; n: number }>(
          `SELECT status, count(*)::int AS n FROM cw_runs WHERE status IN ('queued', 'running') GROUP BY status`);
        for (const status of ['queued', 'running']) this.set({ status }, rows.find((row) => row.status === status)?.n ?? 0);
      },
    });
    this.lastSuccessGauge(db);
  }

  /** Alert on `time() - cronwarden_job_last_success_timestamp_seconds > …` for a dead-man's switch. */
  private lastSuccessGauge(db: Database): void {
    new Gauge({
      name: 'cronwarden_job_last_success_timestamp_seconds', help: 'When each job last succeeded (Unix time; absent if never)', labelNames: ['job'], registers: [this.registry],
      async collect() {
        this.reset();
        const rows = await db.rows<{ id: string; at: Date | null }>(
          `SELECT j.id, (SELECT r.finished_at FROM cw_runs r WHERE r.job_id = j.id AND r.status = 'succeeded'
                         ORDER BY r.queued_at DESC LIMIT 1) AS at
           FROM cw_jobs j WHERE j.enabled ORDER BY j.id LIMIT $1`, [MAX_JOB_LABELS]);
        for (const row of rows) if (row.at) this.set({ job: row.id }, row.at.getTime() / 1000);
      },
    });
  }

  runStarted(jobId: string, trigger: string, scheduledFor: Date | null, startedAt: Date): void {
    this.started.inc({ job: this.jobLabel(jobId), trigger });
    if (scheduledFor && (trigger === 'schedule' || trigger === 'catchup')) {
      this.lateness.observe(Math.max(0, startedAt.getTime() - scheduledFor.getTime()) / 1000);
    }
  }

  runFinished(jobId: string, status: string, durationMs: number, outputBytes: number): void {
    const job = this.jobLabel(jobId);
    this.finished.inc({ job, status });
    this.duration.observe({ job }, durationMs / 1000);
    this.outputBytes.inc({ job }, outputBytes);
  }

  fire(jobId: string, outcome: 'queued' | 'skipped'): void {
    this.fired.inc({ job: this.jobLabel(jobId), outcome });
  }

  retained(runsDeleted: number, outputRunsCleared: number): void {
    this.retention.inc({ kind: 'runs' }, runsDeleted);
    this.retention.inc({ kind: 'output' }, outputRunsCleared);
  }

  httpRequest(method: string, route: string, status: number, seconds: number): void {
    this.httpRequests.observe({ method, route, status: String(status) }, seconds);
  }

  private jobLabel(jobId: string): string {
    if (this.labelledJobs.has(jobId)) return jobId;
    if (this.labelledJobs.size >= MAX_JOB_LABELS) return OTHER;
    this.labelledJobs.add(jobId);
    return jobId;
  }
}
