import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { CatchupPolicy, OverlapPolicy } from '../config/config.types.js';

/** A schedule that runs one pipeline with params. Table `cw_jobs`; the migration is the source of truth. */
@Entity('cw_jobs')
@Check('cw_jobs_schedule_check', '(cron IS NULL) <> (every_ms IS NULL)')
@Check('cw_jobs_source_check', `source IN ('config', 'api')`)
@Index('cw_jobs_updated_at_idx', ['updatedAt'])
export class JobEntity {
  @PrimaryColumn('text') id: string;
  @Column('text') name: string;
  @Column('text') pipeline: string;
  @Column('text', { nullable: true }) cron: string | null;
  @Column('bigint', { name: 'every_ms', nullable: true }) everyMs: number | null;
  @Column('text', { default: 'UTC' }) timezone: string;
  @Column('jsonb', { default: {} }) params: Record<string, unknown>;
  @Column('text', { default: 'skip' }) overlap: OverlapPolicy;
  @Column('text', { default: 'once' }) catchup: CatchupPolicy;
  @Column('bigint', { name: 'catchup_window_ms', default: 21600000 }) catchupWindowMs: number;
  @Column('bigint', { name: 'jitter_ms', default: 0 }) jitterMs: number;
  @Column('text') owner: string;
  @Column('text') source: 'config' | 'api';
  /** False for a config job that was removed from the file: kept with its history, never fired. */
  @Column('boolean', { default: true }) enabled: boolean;
  /** How long the job may go without a success before it is `late`; null: twice its period. */
  @Column('bigint', { name: 'expect_success_within_ms', nullable: true }) expectSuccessWithinMs: number | null;
  @Column('boolean', { default: false }) paused: boolean;
  @Column('text', { name: 'pause_note', nullable: true }) pauseNote: string | null;
  @Column('text', { name: 'paused_by', nullable: true }) pausedBy: string | null;
  @Column('timestamptz', { name: 'paused_at', nullable: true }) pausedAt: Date | null;
  /** The last scheduled instant that was handled (fired, skipped or caught up): the schedule's anchor. */
  @Column('timestamptz', { name: 'anchor_at', nullable: true }) anchorAt: Date | null;
  /**
   * The first scheduled instant after the anchor, as the scheduler last computed it; null until
   * computed. A trigger clears it when the anchor or the schedule changes (migration 1764000008000).
   */
  @Column('timestamptz', { name: 'next_fire_at', nullable: true }) nextFireAt: Date | null;
  /** Bumped on every change of definition or state, so schedulers can tell a stale copy. */
  @Column('integer', { default: 1 }) version: number;
  @Column('timestamptz', { name: 'created_at', default: () => 'now()' }) createdAt: Date;
  @Column('timestamptz', { name: 'updated_at', default: () => 'now()' }) updatedAt: Date;
}
