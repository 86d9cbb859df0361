import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsDate, IsIn, IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { IsText } from '../common/validation.js';
import { AUDIT_ACTIONS, type AuditAction } from './audit.entity.js';

/** Query of GET /api/cron/audit. */
export class ListAuditQuery {
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

  @ApiPropertyOptional({ description: 'Only entries at or after this instant (ISO 8601).' })
  @IsOptional()
  @Transform(({ value }) => (typeof value === 'string' && /^\d{4}-\d\d-\d\d/.test(value) ? new Date(value) : value))
  @IsDate({ message: 'since must be an ISO 8601 date-time such as 2026-01-01T00:00:00Z' })
  since?: Date;

  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;

  @ApiPropertyOptional({ description: 'The `nextCursor` of the previous page.' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{1,200}$/, { message: 'cursor must be a cursor returned by a previous page' })
  cursor?: string;
}
