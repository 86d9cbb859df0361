import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { JobEntity } from '../jobs/job.entity.js';

export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'timed_out', 'cancelled', 'abandoned', 'skipped'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const FINAL_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'timed_out', 'cancelled', 'abandoned', 'skipped'];
export const RUN_TRIGGERS = ['schedule', 'manual', 'catchup', 'retry', 'chain'] as const;
export type RunTrigger = (typeof RUN_TRIGGERS)[number];

/** One execution (or recorded non-execution) of a job. Table `cw_runs`. */
@Entity('cw_runs')
@Check('cw_runs_status_check', `status IN ('queued', 'running', 'succeeded', 'failed', 'timed_out', 'cancelled', 'abandoned', 'skipped')`)
@Check('cw_runs_trigger_check', `trigger IN ('schedule', 'manual', 'catchup', 'retry', 'chain')`)
@Index('cw_runs_job_instant_key', ['jobId', 'scheduledFor'], { unique: true, where: `trigger IN ('schedule', 'catchup')` })
@Index('cw_runs_queued_order_idx', ['queuedAt', 'id'], { where: `status = 'queued'` })
@Index('cw_runs_active_idx', ['jobId'], { where: `status IN ('queued', 'running')` })
@Index('cw_runs_job_history_idx', ['jobId', 'queuedAt', 'id'])
@Index('cw_runs_retry_key', ['parentRunId'], { unique: true, where: `trigger = 'retry'` })
@Index('cw_runs_chain_key', ['parentRunId', 'jobId'], { unique: true, where: `trigger = 'chain'` })
@Index('cw_runs_running_node_idx', ['nodeId'], { where: `status = 'running'` })
@Index('cw_runs_abandoned_idx', ['finishedAt'], { where: `status = 'abandoned' AND process_start IS NOT NULL` })
export class RunEntity {
  @PrimaryColumn('uuid') id: string;
  @Column('text', { name: 'job_id' }) jobId: string;
  @ManyToOne(() => JobEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'job_id', foreignKeyConstraintName: 'cw_runs_job_id_fkey' })
  job?: JobEntity;
  @Column('text') status: RunStatus;
  @Column('text') trigger: RunTrigger;
  @Column('timestamptz', { name: 'scheduled_for', nullable: true }) scheduledFor: Date | null;
  @Column('timestamptz', { name: 'queued_at', default: () => 'now()' }) queuedAt: Date;
  /** A retry waits until this instant before an executor may claim it. */
  @Column('timestamptz', { name: 'not_before', nullable: true }) notBefore: Date | null;
  @Column('timestamptz', { name: 'started_at', nullable: true }) startedAt: Date | null;
  @Column('timestamptz', { name: 'finished_at', nullable: true }) finishedAt: Date | null;
  @Column('integer', { name: 'duration_ms', nullable: true }) durationMs: number | null;
  @Column('integer', { name: 'exit_code', nullable: true }) exitCode: number | null;
  @Column('text', { nullable: true }) signal: string | null;
  @Column('integer', { default: 1 }) attempt: number;
  @Column('text', { name: 'triggered_by', nullable: true }) triggeredBy: string | null;
  @Column('text', { name: 'node_id', nullable: true }) nodeId: string | null;
  @Column('integer', { nullable: true }) pid: number | null;
  /** `<boot id>:<start time>` of the child's process, so a restarted node never kills a reused pid. */
  @Column('text', { name: 'process_start', nullable: true }) processStart: string | null;
  @Column('jsonb', { default: {} }) params: Record<string, unknown>;
  @Column('bigint', { name: 'output_bytes', default: 0 }) outputBytes: number;
  @Column('bigint', { name: 'output_dropped_bytes', default: 0 }) outputDroppedBytes: number;
  @Column('boolean', { name: 'output_truncated', default: false }) outputTruncated: boolean;
  /** Why the run failed, was skipped, cancelled or abandoned. */
  @Column('text', { nullable: true }) error: string | null;
  @Column('uuid', { name: 'parent_run_id', nullable: true }) parentRunId: string | null;
  @Column('timestamptz', { name: 'cancel_requested_at', nullable: true }) cancelRequestedAt: Date | null;
  @Column('text', { name: 'cancel_requested_by', nullable: true }) cancelRequestedBy: string | null;
  /** Peak resident memory of the run's process group, sampled from /proc. */
  @Column('bigint', { name: 'peak_rss_bytes', nullable: true }) peakRssBytes: number | null;
  /** CPU seconds (user + system) of the run's process group, sampled from /proc. */
  @Column('double precision', { name: 'cpu_seconds', nullable: true }) cpuSeconds: number | null;
}
