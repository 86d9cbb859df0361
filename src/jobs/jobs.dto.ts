import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsObject, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

/** Body of POST /api/cron/jobs/:id/pause. */
export class PauseJobDto {
  @ApiPropertyOptional({ description: 'Why the job is paused, shown with the job.', maxLength: 500 })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  note?: string;
}

/** Body of POST /api/cron/jobs/:id/trigger. */
export class TriggerJobDto {
  @ApiPropertyOptional({ description: "Params for this run, merged over the job's params.", type: Object })
  @IsOptional()
  @IsObject()
  params?: Record<string, unknown>;
}

/** Query of GET /api/cron/jobs. */
export class ListJobsQuery {
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(200) owner?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(200) pipeline?: string;
  @ApiPropertyOptional({ type: Boolean })
  @IsOptional()
  @Type(() => String)
  @IsIn(['true', 'false'], { message: 'paused must be true or false' })
  paused?: 'true' | 'false';
}

/** Query of GET /api/cron/jobs/:id/runs. */
export class ListRunsQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;

  @ApiPropertyOptional({ description: 'The `nextCursor` of the previous page.' })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{1,200}$/, { message: 'cursor must be a cursor returned by a previous page' })
  cursor?: string;
}

