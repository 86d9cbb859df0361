import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { RunEntity } from '../runs/run.entity.js';

/** One webhook delivery for one run event. Table `cw_notifications`. */
@Entity('cw_notifications')
@Check('cw_notifications_status_check', `status IN ('pending', 'delivered', 'failed')`)
@Index('cw_notifications_run_url_event_key', ['runId', 'url', 'event'], { unique: true })
@Index('cw_notifications_due_idx', ['nextAttemptAt'], { where: `status = 'pending'` })
@Index('cw_notifications_job_episode_key', ['jobId', 'url', 'event', 'episode'], { unique: true, where: 'run_id IS NULL' })
export class NotificationEntity {
  @PrimaryColumn('uuid') id: string;
  /** The run it is about; null for job events (`late`). */
  @Column('uuid', { name: 'run_id', nullable: true }) runId: string | null;
  @Column('text', { name: 'job_id', nullable: true }) jobId: string | null;
  /** For job events: which lateness episode (the last success it counts from), so each is told once. */
  @Column('text', { nullable: true }) episode: string | null;
  @ManyToOne(() => RunEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'run_id', foreignKeyConstraintName: 'cw_notifications_run_id_fkey' })
  run?: RunEntity;
  @Column('text') url: string;
  @Column('text') event: string;
  @Column('text', { default: 'pending' }) status: 'pending' | 'delivered' | 'failed';
  @Column('jsonb') payload: Record<string, unknown>;
  @Column('text', { nullable: true }) secret: string | null;
  @Column('integer', { default: 0 }) attempts: number;
  @Column('timestamptz', { name: 'next_attempt_at', default: () => 'now()' }) nextAttemptAt: Date;
  @Column('text', { name: 'last_error', nullable: true }) lastError: string | null;
  @Column('timestamptz', { name: 'delivered_at', nullable: true }) deliveredAt: Date | null;
  @Column('timestamptz', { name: 'created_at', default: () => 'now()' }) createdAt: Date;
}
