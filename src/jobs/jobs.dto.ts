import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { PageQuery } from '../common/page.dto.js';
import { IfPresent, IsDuration, IsJsonObject, IsText } from '../common/validation.js';

/** Job ids are slugs, like config ids: they appear in URLs, logs and child environments. */
export const JOB_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;
/** How large a job's (or a trigger's) params may be as JSON text. */
export const MAX_PARAMS_BYTES = 16 * 1024;
/** Longest interval and catch-up window: a year keeps every date arithmetic far inside Date's range. */
export const MAX_EVERY_MS = 366 * 86_400_000;
export const MAX_JITTER_MS = 86_400_000;
export const OVERLAP_POLICIES = ['skip', 'queue', 'allow', 'replace'] as const;
export const CATCHUP_POLICIES = ['skip', 'once', 'all'] as const;

/** The fields a job may be created or edited with, every one optional; the subclasses add what is required. */
class JobFieldsDto {
  @ApiPropertyOptional({ description: 'Display name; defaults to the id.', maxLength: 200 })
  @IfPresent() @IsText({ min: 1, max: 200 })
  name?: string;

  @ApiPropertyOptional({ description: 'Cron expression, 5 or 6 fields (croner syntax). Exactly one of cron and every.', example: '0 3 * * *' })
  @IfPresent() @IsText({ min: 1, max: 200 })
  cron?: string;

  @ApiPropertyOptional({ description: 'Interval, anchored on the last scheduled instant. Exactly one of cron and every.', example: '5h' })
  @IfPresent() @IsDuration(1_000, MAX_EVERY_MS)
  every?: string;

  @ApiPropertyOptional({ description: 'IANA time zone the cron expression is read in.', default: 'UTC', example: 'Europe/Berlin' })
  @IfPresent() @IsText({ min: 1, max: 100 })
  timezone?: string;

  @ApiPropertyOptional({ description: `JSON object handed to the child as JOB_INPUT; at most ${MAX_PARAMS_BYTES} bytes.`, type: Object })
  @IfPresent() @IsJsonObject(MAX_PARAMS_BYTES)
  params?: Record<string, unknown>;

  @ApiPropertyOptional({ enum: OVERLAP_POLICIES, default: 'skip', description: 'What a fire does while a run of the job is still active.' })
  @IfPresent() @IsIn(OVERLAP_POLICIES, { message: `overlap must be one of ${OVERLAP_POLICIES.join(', ')}` })
  overlap?: (typeof OVERLAP_POLICIES)[number];

  @ApiPropertyOptional({ enum: CATCHUP_POLICIES, default: 'once', description: 'What happens to instants missed while no node ran.' })
  @IfPresent() @IsIn(CATCHUP_POLICIES, { message: `catchup must be one of ${CATCHUP_POLICIES.join(', ')}` })
  catchup?: (typeof CATCHUP_POLICIES)[number];

  @ApiPropertyOptional({ description: 'How far back missed instants are caught up.', default: '6h' })
  @IfPresent() @IsDuration(0, MAX_EVERY_MS)
  catchupWindow?: string;

  @ApiPropertyOptional({ description: 'A stable random delay up to this long after each instant.', default: '0' })
  @IfPresent() @IsDuration(0, MAX_JITTER_MS)
  jitter?: string;

  @ApiPropertyOptional({ description: "Owner (a token's sub). Only an admin may set it; defaults to the caller.", maxLength: 200 })
  @IfPresent() @IsText({ min: 1, max: 200 })
  owner?: string;
}

/** Body of POST /api/cron/jobs. */
export class CreateJobDto extends JobFieldsDto {
  @ApiPropertyOptional({ description: 'Slug: 1-63 of a-z 0-9 _ -, starting with a letter or digit. Generated when absent.', example: 'nightly-report' })
  @IfPresent() @Matches(JOB_ID, { message: 'id must be 1-63 lowercase letters, digits, _ or -, starting with a letter or digit' })
  id?: string;

  @ApiProperty({ description: 'A pipeline defined in the config file (GET /api/cron/pipelines).', example: 'main' })
  @IsText({ min: 1, max: 63 })
  pipeline: string;
}

/** Body of PATCH /api/cron/jobs/:id: only the fields given change. Giving cron drops every, and the reverse. */
export class UpdateJobDto extends JobFieldsDto {
  @ApiPropertyOptional({ description: 'A pipeline defined in the config file.' })
  @IfPresent() @IsText({ min: 1, max: 63 })
  pipeline?: string;
}

/** Body of POST /api/cron/jobs/:id/pause. */
export class PauseJobDto {
  @ApiPropertyOptional({ description: 'Why the job is paused, shown with the job.', maxLength: 500 })
  @IfPresent() @IsText({ max: 500 })
  note?: string;
}

/** Body of POST /api/cron/jobs/:id/trigger. */
export class TriggerJobDto {
  @ApiPropertyOptional({ description: "Params for this run, merged over the job's params.", type: Object })
  @IfPresent() @IsJsonObject(MAX_PARAMS_BYTES)
  params?: Record<string, unknown>;
}

/** Query of GET /api/cron/jobs/:id/next. */
export class NextRunsQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20, description: 'How many instants.' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  n?: number;
}

/** Body of POST /api/cron/preview: a schedule that is not saved (yet). */
export class PreviewDto {
  @ApiPropertyOptional({ description: 'Cron expression, 5 or 6 fields. Exactly one of cron and every.', example: '30 2 * * *' })
  @IfPresent() @IsText({ min: 1, max: 200 })
  cron?: string;

  @ApiPropertyOptional({ description: 'Interval; counted from now. Exactly one of cron and every.', example: '5h' })
  @IfPresent() @IsDuration(1_000, MAX_EVERY_MS)
  every?: string;

  @ApiPropertyOptional({ default: 'UTC', example: 'Europe/Berlin' })
  @IfPresent() @IsText({ min: 1, max: 100 })
  timezone?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  @IfPresent() @IsInt() @Min(1) @Max(100)
  n?: number;
}

/** Query of GET /api/cron/jobs: filters, and a page in id order when `limit` or `cursor` is given. */
export class ListJobsQuery extends PageQuery {
  @ApiPropertyOptional() @IsOptional() @IsText({ max: 200 }) owner?: string;
  @ApiPropertyOptional() @IsOptional() @IsText({ max: 200 }) pipeline?: string;
  @ApiPropertyOptional({ type: Boolean })
  @IsOptional()
  @Type(() => String)
  @IsIn(['true', 'false'], { message: 'paused must be true or false' })
  paused?: 'true' | 'false';
}

/** Query of GET /api/cron/jobs/:id/runs. */
export class ListRunsQuery extends PageQuery {}
