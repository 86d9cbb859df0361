import { nextFireAfter } from '../scheduler/schedule.js';
import type { JobRow } from './jobs.repository.js';

/**
 * The job's next scheduled instant after `now` (a due-but-missed instant is the catch-up policy's:
 * the next one is after now). The scheduler's `nextFireAt` is the first instant after the anchor;
 * while it is also later than now, no instant lies between now and it, so it is the answer and
 * croner is not asked. Otherwise (not computed yet, stale, or already due) croner computes it.
 */
export function nextRunAt(row: Pick<JobRow, 'cron' | 'everyMs' | 'timezone' | 'anchorAt' | 'createdAt' | 'nextFireAt'>, now: Date): Date | null {
  const anchor = row.anchorAt ?? row.createdAt;
  const stored = storedNextFire(row);
  if (stored !== null && stored > now) return stored;
  const spec = { cron: row.cron, everyMs: row.everyMs, timezone: row.timezone };
  return nextFireAfter(spec, anchor > now ? anchor : now, anchor);
}

/**
 * The scheduler's stored first instant after the anchor, or null when there is none to trust: not
 * computed yet, or not later than the anchor (a fire moved the anchor past it).
 */
export function storedNextFire(row: Pick<JobRow, 'anchorAt' | 'createdAt' | 'nextFireAt'>): Date | null {
  return row.nextFireAt !== null && row.nextFireAt > (row.anchorAt ?? row.createdAt) ? row.nextFireAt : null;
}
