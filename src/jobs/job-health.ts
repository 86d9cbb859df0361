import { nextFireAfter, type ScheduleSpec } from '../scheduler/schedule.js';

export type JobHealth = 'ok' | 'late' | 'failing';

const FAILED = new Set(['failed', 'timed_out', 'abandoned']);

/**
 * How long a job may go without a success before it counts as late: `expectSuccessWithin` when
 * set, else twice its period (for cron, twice the gap between its next two instants, so it
 * follows the schedule's own rhythm).
 */
export function freshnessLimitMs(spec: ScheduleSpec, expectSuccessWithinMs: number | null, now: Date): number | null {
  if (expectSuccessWithinMs !== null) return expectSuccessWithinMs;
  if (spec.everyMs !== null) return 2 * spec.everyMs;
  const first = nextFireAfter(spec, now, null);
  const second = first ? nextFireAfter(spec, first, null) : null;
  return first && second ? 2 * (second.getTime() - first.getTime()) : null;
}

/**
 * The dead-man's switch: `failing` when the latest finished run failed, `late` when no run has
 * succeeded within the limit (counted from the job's creation until the first success), else `ok`.
 * Paused jobs are `ok`: nobody expects them to run.
 */
export function jobHealth(input: {
  paused: boolean;
  createdAt: Date;
  lastSuccessAt: Date | null;
  lastFinishedStatus: string | null;
  limitMs: number | null;
  now: Date;
}): JobHealth {
  if (input.paused) return 'ok';
  if (input.lastFinishedStatus !== null && FAILED.has(input.lastFinishedStatus)) return 'failing';
  if (input.limitMs === null) return 'ok';
  const since = input.lastSuccessAt ?? input.createdAt;
  return input.now.getTime() - since.getTime() > input.limitMs ? 'late' : 'ok';
}
