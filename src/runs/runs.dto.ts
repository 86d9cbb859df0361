import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { PageQuery, SinceQuery } from '../common/page.dto.js';
import { IfPresent, IsText } from '../common/validation.js';
import { RUN_STATUSES, RUN_TRIGGERS, type RunStatus, type RunTrigger } from './run.entity.js';

/** `a,b` or `a&…&b` in a query string: a list either way. */
const list = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' ? value.split(',').map((item) => item.trim()).filter(Boolean) : value;

/** Query of GET /api/cron/runs/:id/output/stream. */
export class OutputStreamQuery {
  @ApiPropertyOptional({ enum: ['stdout', 'stderr'], description: 'Only this stream; both, in written order, by default.' })
  @IsOptional()
  @IsIn(['stdout', 'stderr'], { message: 'stream must be stdout or stderr' })
  stream?: 'stdout' | 'stderr';
}

/** Query of GET /api/cron/runs/:id/output. */
export class OutputQuery extends OutputStreamQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 100_000, description: 'Only the last N lines.' })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'tail must be a whole number of lines' })
  @Min(1)
  @Max(100_000)
  tail?: number;
}

/** Query of GET /api/cron/runs. */
export class ListAllRunsQuery extends PageQuery {
  @ApiPropertyOptional({ description: 'Only runs of this job.' })
  @IsOptional()
  @Matches(/^[a-z0-9][a-z0-9_-]{0,62}$/, { message: 'jobId must be a job id' })
  jobId?: string;

  @ApiPropertyOptional({ description: 'Only these statuses, comma-separated.', example: 'failed,timed_out' })
  @IsOptional()
  @Transform(list)
  @IsIn(RUN_STATUSES, { each: true, message: `status must be one or more of ${RUN_STATUSES.join(', ')}` })
  status?: RunStatus[];

  @ApiPropertyOptional({ description: 'Only these triggers, comma-separated.', example: 'manual' })
  @IsOptional()
  @Transform(list)
  @IsIn(RUN_TRIGGERS, { each: true, message: `trigger must be one or more of ${RUN_TRIGGERS.join(', ')}` })
  trigger?: RunTrigger[];

  @SinceQuery('Only runs queued at or after this instant (ISO 8601).')
  since?: Date;
}

/** Body of POST /api/cron/runs/:id/cancel. */
export class CancelRunDto {
  @ApiPropertyOptional({ description: 'Why, recorded with the run.', maxLength: 500 })
  @IfPresent() @IsText({ max: 500 })
  reason?: string;
}
