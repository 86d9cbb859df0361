import { ApiProperty } from '@nestjs/swagger';
import { InvalidInputError } from '../common/errors.js';
import { upcoming, validateSchedule, type ScheduleSpec } from '../scheduler/schedule.js';

/** One upcoming instant: UTC, the wall time in the schedule's zone, and a note where DST moves or merges it. */
export interface InstantView {
  at: string;
  local: string;
  offset: string;
  dstNote: string | null;
}

export interface PreviewView {
  cron: string | null;
  every: string | null;
  timezone: string;
  instants: InstantView[];
}

/**
 * The next `n` instants of a schedule after `from`; `every` counts from `anchor` (or from `from`).
 * @throws InvalidInputError naming `timezone`, `cron` or `every` when the schedule is unusable.
 */
export function previewSchedule(spec: ScheduleSpec, every: string | null, from: Date, n: number, anchor: Date | null): PreviewView {
  if (spec.cron === null && spec.everyMs === null) throw new InvalidInputError('cron', 'give cron (e.g. "0 3 * * *") or every (e.g. 5h)');
  if (spec.cron !== null && spec.everyMs !== null) throw new InvalidInputError('cron', 'give either cron or every, not both');
  const zoneProblem = validateSchedule({ cron: null, everyMs: 60_000, timezone: spec.timezone });
  if (zoneProblem !== null) throw new InvalidInputError('timezone', zoneProblem);
  const problem = validateSchedule(spec);
  if (problem !== null) throw new InvalidInputError(spec.cron !== null ? 'cron' : 'every', problem);
  const instants = upcoming(spec, from, n, anchor).map((instant) => ({
    at: instant.at.toISOString(),
    local: instant.local,
    offset: instant.offset,
    dstNote: instant.dstNote,
  }));
  return { cron: spec.cron, every, timezone: spec.timezone, instants };
}

/** The documented shape of `InstantView` (OpenAPI). */
export class InstantResponse implements InstantView {
  @ApiProperty({ example: '2027-03-28T01:00:00.000Z' }) at: string;
  @ApiProperty({ example: '2027-03-28T03:00:00+02:00', description: 'Wall time in the schedule\'s time zone.' }) local: string;
  @ApiProperty({ example: '+02:00' }) offset: string;
  @ApiProperty({ type: String, nullable: true, example: '02:30 does not exist on this day (DST); fires at 03:00' }) dstNote: string | null;
}

/** The documented shape of `PreviewView` (OpenAPI). */
export class PreviewResponse implements PreviewView {
  @ApiProperty({ type: String, nullable: true }) cron: string | null;
  @ApiProperty({ type: String, nullable: true }) every: string | null;
  @ApiProperty() timezone: string;
  @ApiProperty({ type: [InstantResponse] }) instants: InstantView[];
}

/** GET /api/cron/jobs/:id/next (OpenAPI). */
export class NextRunsResponse extends PreviewResponse {
  @ApiProperty() jobId: string;
  @ApiProperty({ description: 'A paused job does not fire; the instants are where it would.' }) paused: boolean;
}
