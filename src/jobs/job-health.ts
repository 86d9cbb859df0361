import { nextFireAfter, type ScheduleSpec } from '../scheduler/schedule.js';

export type JobHealth = 'ok' | 'late' | 'failing';

const FAILED = new Set(['failed', 'timed_out', 'abandoned']);

/**
 * Twice the gap between the next two instants of a cron schedule after `now`, memoised per
 * (expression, time zone). The next two instants after `now` stay the same from the `now` they
 * were computed at until the first of them passes, so a memo is exact in that window: a list of
 * jobs calls croner once per expression per instant, not twice per job and request.
 */
export class CronLimitMemo {
  private readonly entries = new Map<string, { from: number; until: number; limitMs: number | null }>();

  constructor(
    private readonly capacity: number,
    private readonly compute: (spec: ScheduleSpec, now: Date) => { limitMs: number | null; first: Date | null } = cronLimit,
  ) {}

  limitMs(spec: ScheduleSpec, now: Date): number | null {
    return this.limit(spec, now).limitMs;
  }

  /** The limit at `now`, and the instant until which it stays the same (the first instant after `now`). */
  limit(spec: ScheduleSpec, now: Date): { limitMs: number | null; until: number } {
    const key = `${spec.timezone}\n${spec.cron}`;
    const at = now.getTime();
    const memo = this.entries.get(key);
    if (memo !== undefined && memo.from <= at && at < memo.until) return memo;
    const { limitMs, first } = this.compute(spec, now);
    // Re-inserted at the end: the oldest computed entry goes first when full.
    this.entries.delete(key);
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    const entry = { from: at, until: first?.getTime() ?? Number.POSITIVE_INFINITY, limitMs };
    this.entries.set(key, entry);
    return entry;
  }

  get size(): number {
    return this.entries.size;
  }
}

/** The uncached computation behind `CronLimitMemo`: the limit and the first instant it depends on. */
export function cronLimit(spec: ScheduleSpec, now: Date): { limitMs: number | null; first: Date | null } {
  const first = nextFireAfter(spec, now, null);
  const second = first ? nextFireAfter(spec, first, null) : null;
  return { limitMs: first && second ? 2 * (second.getTime() - first.getTime()) : null, first };
}

// Entries are a few numbers each; 4,096 covers the distinct expressions of many pages of jobs.
const cronLimits = new CronLimitMemo(4096);

/**
 * How long a job may go without a success before it counts as late: `expectSuccessWithin` when
 * set, else twice its period (for cron, twice the gap between its next two instants, so it
 * follows the schedule's own rhythm).
 */
export function freshnessLimitMs(spec: ScheduleSpec, expectSuccessWithinMs: number | null, now: Date): number | null {
  return freshnessLimit(spec, expectSuccessWithinMs, now).limitMs;
}

/** `freshnessLimitMs`, and until when it holds: a cron job's changes when its next instant passes. */
export function freshnessLimit(spec: ScheduleSpec, expectSuccessWithinMs: number | null, now: Date): { limitMs: number | null; until: number } {
  if (expectSuccessWithinMs !== null) return { limitMs: expectSuccessWithinMs, until: Number.POSITIVE_INFINITY };
  if (spec.everyMs !== null) return { limitMs: 2 * spec.everyMs, until: Number.POSITIVE_INFINITY };
  return cronLimits.limit(spec, now);
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
