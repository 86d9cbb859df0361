import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';

export const AUDIT_ACTIONS = ['job.create', 'job.update', 'job.delete', 'job.pause', 'job.resume', 'job.trigger', 'run.cancel'] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** One change made through the API. Table `cw_audit`; the migration is the source of truth. */
@Entity('cw_audit')
@Check('cw_audit_action_check', `action IN ('job.create', 'job.update', 'job.delete', 'job.pause', 'job.resume', 'job.trigger', 'run.cancel')`)
@Index('cw_audit_at_idx', ['at', 'id'])
@Index('cw_audit_job_idx', ['jobId', 'at'])
export class AuditEntity {
  @PrimaryColumn('uuid') id: string;
  @Column('timestamptz', { default: () => 'now()' }) at: Date;
  /** The token subject that made the change. */
  @Column('text') actor: string;
  @Column('text') action: AuditAction;
  @Column('text', { name: 'job_id', nullable: true }) jobId: string | null;
  @Column('uuid', { name: 'run_id', nullable: true }) runId: string | null;
  /** What changed: a created job's definition, an edit's before and after, a pause note, trigger params, a cancel reason. */
  @Column('jsonb', { default: {} }) details: Record<string, unknown>;
}
