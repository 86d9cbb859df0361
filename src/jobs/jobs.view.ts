import { ApiProperty } from '@nestjs/swagger';
import { freshnessLimit, jobHealth, type JobHealth } from './job-health.js';
import type { Freshness } from '../runs/runs.repository.js';
import { formatDuration } from '../config/durations.js';
import type { RunRow } from '../runs/runs.repository.js';
import { RunResponse, runView, type RunView } from '../runs/runs.view.js';
import { StatsResponse } from '../stats/stats.view.js';
import type { JobRow } from './jobs.repository.js';
import { nextRunAt } from './next-run.js';

/** A job as the API shows it. */
export interface JobView {
  id: string;
  name: string;
  pipeline: string;
  cron: string | null;
  every: string | null;
  timezone: string;
  params: Record<string, unknown>;
  overlap: string;
  catchup: string;
  catchupWindow: string;
  jitter: string;
  paused: boolean;
  pauseNote: string | null;
  pausedBy: string | null;
  pausedAt: string | null;
  owner: string;
  source: string;
  nextRunAt: string | null;
  lastRun: RunView | null;
  /** The dead-man's switch: ok, late (no success within expectSuccessWithin) or failing (the latest finished run failed). */
  health: JobHealth;
  lastSuccessAt: string | null;
  expectSuccessWithin: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A page of GET /api/cron/jobs?limit=… */
export interface JobPage {
  items: JobView[];
  /** Pass as `cursor` to get the next page; null on the last page. */
  nextCursor: string | null;
}

/** Maps a row to the API shape; `nextRunAt` comes from the schedule and the persisted anchor (see next-run.ts). */
export function jobView(row: JobRow, lastRun: RunRow | null, now: Date, freshness: Freshness | undefined): JobView {
  return timedJobView(row, lastRun, now, freshness).view;
}

/**
 * `jobView`, and the instant it stops holding as time passes (the rows unchanged): when its next
 * run passes, when its freshness limit moves (a cron job's next instant), or when it turns late.
 * Before that instant, `jobView` at any later `now` answers the same.
 */
export function timedJobView(row: JobRow, lastRun: RunRow | null, now: Date, freshness: Freshness | undefined): { view: JobView; until: number } {
  const spec = { cron: row.cron, everyMs: row.everyMs, timezone: row.timezone };
  const limit = freshnessLimit(spec, row.expectSuccessWithinMs, now);
  const limitMs = limit.limitMs;
  const lastSuccessAt = freshness?.lastSuccessAt ?? null;
  const health = jobHealth({
    paused: row.paused, createdAt: row.createdAt, lastSuccessAt, lastFinishedStatus: freshness?.lastFinishedStatus ?? null, limitMs, now,
  });
  const next = row.paused || !row.enabled ? null : nextRunAt(row, now);
  let until = limit.until;
  if (next !== null) until = Math.min(until, next.getTime());
  // Late once more than limitMs has passed since the last success (or the creation): from that millisecond on.
  const lateAt = limitMs === null ? Number.POSITIVE_INFINITY : (lastSuccessAt ?? row.createdAt).getTime() + limitMs + 1;
  if (health === 'ok' && !row.paused && lateAt > now.getTime()) until = Math.min(until, lateAt);
  const view: JobView = {
    id: row.id,
    name: row.name,
    pipeline: row.pipeline,
    cron: row.cron,
    every: row.everyMs === null ? null : formatDuration(row.everyMs),
    timezone: row.timezone,
    params: row.params,
    overlap: row.overlap,
    catchup: row.catchup,
    catchupWindow: formatDuration(row.catchupWindowMs),
    jitter: formatDuration(row.jitterMs),
    paused: row.paused,
    pauseNote: row.pauseNote,
    pausedBy: row.pausedBy,
    pausedAt: row.pausedAt?.toISOString() ?? null,
    owner: row.owner,
    source: row.source,
    nextRunAt: next?.toISOString() ?? null,
    lastRun: lastRun ? runView(lastRun) : null,
    health,
    lastSuccessAt: lastSuccessAt?.toISOString() ?? null,
    expectSuccessWithin: limitMs === null ? null : formatDuration(limitMs),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
  return { view, until };
}

const nullableText = (description?: string) => ApiProperty({ type: String, nullable: true, description });

/** The documented shape of `JobView` (OpenAPI). */
export class JobResponse implements JobView {
  @ApiProperty({ example: 'nightly-report' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ description: 'A pipeline of the config file.' }) pipeline: string;
  @nullableText('Cron expression (5 or 6 fields); null for an interval job.') cron: string | null;
  @nullableText('Interval such as 5h; null for a cron job.') every: string | null;
  @ApiProperty({ example: 'Europe/Berlin' }) timezone: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) params: Record<string, unknown>;
  @ApiProperty({ enum: ['skip', 'queue', 'allow', 'replace'] }) overlap: string;
  @ApiProperty({ enum: ['skip', 'once', 'all'] }) catchup: string;
  @ApiProperty({ example: '6h' }) catchupWindow: string;
  @ApiProperty({ example: '0ms' }) jitter: string;
  @ApiProperty() paused: boolean;
  @nullableText() pauseNote: string | null;
  @nullableText() pausedBy: string | null;
  @nullableText() pausedAt: string | null;
  @ApiProperty({ description: 'A token subject, or "system" for config jobs.' }) owner: string;
  @ApiProperty({ enum: ['config', 'api'] }) source: string;
  @nullableText('The next scheduled instant; null while paused.') nextRunAt: string | null;
  @ApiProperty({ type: RunResponse, nullable: true, description: 'The latest run that was not skipped.' }) lastRun: RunView | null;
  @ApiProperty({ enum: ['ok', 'late', 'failing'], description: 'failing: the latest finished run failed; late: no success within expectSuccessWithin.' }) health: JobHealth;
  @nullableText('When the job last succeeded.') lastSuccessAt: string | null;
  @nullableText('How long the job may go without a success (default: twice its period).') expectSuccessWithin: string | null;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
}

/** GET /api/cron/jobs/:id: the job and statistics over its latest runs (OpenAPI). */
export class JobDetailResponse extends JobResponse {
  @ApiProperty({ type: StatsResponse }) stats: StatsResponse;
}

/** A page of jobs (OpenAPI). */
export class JobPageResponse implements JobPage {
  @ApiProperty({ type: [JobResponse] }) items: JobResponse[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next page (in id order); null on the last.' }) nextCursor: string | null;
}
