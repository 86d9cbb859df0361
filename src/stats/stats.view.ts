import { ApiProperty } from '@nestjs/swagger';
import { STATS_WINDOW, type StatsRow } from './stats.repository.js';

/** Statistics over a job's latest runs (or over all visible jobs' latest runs). */
export interface StatsView {
  /** Runs looked at: the latest STATS_WINDOW of each job, skipped ones included. */
  runs: number;
  byStatus: Record<string, number>;
  /** Succeeded among finished runs that ran (not skipped), 0..1; null when there is none. */
  successRate: number | null;
  durationMs: { p50: number; p95: number } | null;
  /** Mean delay from the scheduled instant to the start, over scheduled runs. */
  meanLatenessMs: number | null;
}

const EMPTY: StatsRow = {
  jobId: null, runs: 0, queued: 0, running: 0, succeeded: 0, failed: 0, timedOut: 0, cancelled: 0, abandoned: 0, skipped: 0,
  p50DurationMs: null, p95DurationMs: null, meanLatenessMs: null,
};

/** Maps an aggregate row (or none: no runs yet) to the API shape. */
export function statsView(row: StatsRow | null | undefined): StatsView {
  const r = row ?? EMPTY;
  const ran = r.succeeded + r.failed + r.timedOut + r.cancelled + r.abandoned;
  return {
    runs: r.runs,
    byStatus: {
      queued: r.queued, running: r.running, succeeded: r.succeeded, failed: r.failed, timed_out: r.timedOut,
      cancelled: r.cancelled, abandoned: r.abandoned, skipped: r.skipped,
    },
    successRate: ran === 0 ? null : Math.round((r.succeeded / ran) * 10_000) / 10_000,
    durationMs: r.p50DurationMs === null || r.p95DurationMs === null ? null : { p50: Math.round(r.p50DurationMs), p95: Math.round(r.p95DurationMs) },
    meanLatenessMs: r.meanLatenessMs === null ? null : Math.round(r.meanLatenessMs),
  };
}

class DurationsResponse {
  @ApiProperty() p50: number;
  @ApiProperty() p95: number;
}

/** The documented shape of `StatsView` (OpenAPI). */
export class StatsResponse implements StatsView {
  @ApiProperty({ description: `Runs looked at: the latest ${STATS_WINDOW} of each job, skipped ones included.` }) runs: number;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'integer' }, example: { succeeded: 97, failed: 2, skipped: 1 } })
  byStatus: Record<string, number>;
  @ApiProperty({ type: Number, nullable: true, description: 'Succeeded among finished runs that ran, 0..1.' }) successRate: number | null;
  @ApiProperty({ type: DurationsResponse, nullable: true }) durationMs: DurationsResponse | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Mean delay from the scheduled instant to the start.' }) meanLatenessMs: number | null;
}

export class JobStatsResponse extends StatsResponse {
  @ApiProperty() jobId: string;
}

/** GET /api/cron/stats with `limit` or `cursor` (OpenAPI). */
export class StatsPageResponse {
  @ApiProperty({ type: [JobStatsResponse] }) items: JobStatsResponse[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next page; null on the last.' }) nextCursor: string | null;
}

/** GET /api/cron/stats (OpenAPI). */
export class StatsOverviewResponse {
  @ApiProperty({ type: [JobStatsResponse] }) jobs: JobStatsResponse[];
  @ApiProperty({ type: StatsResponse, description: 'Over the same runs, all jobs together.' }) total: StatsResponse;
}
