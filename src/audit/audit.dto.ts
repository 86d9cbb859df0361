import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsOptional, Matches } from 'class-validator';
import { PageQuery, SinceQuery } from '../common/page.dto.js';
import { IsText } from '../common/validation.js';
import { AUDIT_ACTIONS, type AuditAction } from './audit.entity.js';

/** Query of GET /api/cron/audit. */
export class ListAuditQuery extends PageQuery {
  @ApiPropertyOptional({ description: 'Only entries about this job.' })
  @IsOptional()
  @Matches(/^[a-z0-9][a-z0-9_-]{0,62}$/, { message: 'jobId must be a job id' })
  jobId?: string;

  @ApiPropertyOptional({ description: 'Only changes made by this subject.' })
  @IsOptional()
  @IsText({ min: 1, max: 200 })
  actor?: string;

  @ApiPropertyOptional({ description: 'Only these actions, comma-separated.', example: 'job.delete,run.cancel' })
  @IsOptional()
  @Transform(({ value }) => (typeof value === 'string' ? value.split(',').map((item) => item.trim()).filter(Boolean) : value))
  @IsIn(AUDIT_ACTIONS, { each: true, message: `action must be one or more of ${AUDIT_ACTIONS.join(', ')}` })
  action?: AuditAction[];

  @SinceQuery('Only entries at or after this instant (ISO 8601).')
  since?: Date;
}
