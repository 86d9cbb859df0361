import fc from 'fast-check';
import { nextFireAfter, type ScheduleSpec } from '../scheduler/schedule.js';
import { nextRunAt } from './next-run.js';

const HOUR = 3_600_000;
const SPECS: ScheduleSpec[] = [
  { cron: '0 3 * * *', everyMs: null, timezone: 'UTC' },
  { cron: '30 2 * * *', everyMs: null, timezone: 'Europe/Berlin' },
  { cron: '30 1 * * *', everyMs: null, timezone: 'America/New_York' },
  { cron: '0 9,17 * * 1-5', everyMs: null, timezone: 'Europe/Berlin' },
  { cron: '*/7 * * * * *', everyMs: null, timezone: 'UTC' },
  { cron: '0 0 29 2 *', everyMs: null, timezone: 'UTC' },
  { cron: null, everyMs: 5 * HOUR, timezone: 'UTC' },
  { cron: null, everyMs: 7_001, timezone: 'UTC' },
];

/** What the job list computed for every job before the scheduler's cache existed. */
function uncached(spec: ScheduleSpec, anchor: Date, now: Date): Date | null {
  return nextFireAfter(spec, anchor > now ? anchor : now, anchor);
}

/** A row as the scheduler leaves it: `nextFireAt` is the first instant after the anchor. */
function rowAfterScheduler(spec: ScheduleSpec, anchorAt: Date | null, createdAt: Date) {
  return { ...spec, anchorAt, createdAt, nextFireAt: nextFireAfter(spec, anchorAt ?? createdAt, anchorAt ?? createdAt) };
}

// Around the 2026 DST changes in Europe and America, and a leap day within reach.
const instant = fc.integer({ min: Date.parse('2026-02-20T00:00:00Z'), max: Date.parse('2028-03-05T00:00:00Z') }).map((ms) => new Date(ms));
const offset = fc.integer({ min: -3 * 24 * HOUR, max: 3 * 24 * HOUR });

describe('nextRunAt', () => {
  it('equals the uncached computation whenever the stored next fire is later than the anchor and now', () => {
    let served = 0;
    fc.assert(fc.property(fc.constantFrom(...SPECS), instant, offset, fc.boolean(), (spec, anchor, ahead, anchored) => {
      const now = new Date(anchor.getTime() + ahead);
      const row = anchored ? rowAfterScheduler(spec, anchor, new Date(0)) : rowAfterScheduler(spec, null, anchor);
      if (row.nextFireAt !== null && row.nextFireAt > now) served++;
      expect(nextRunAt(row, now)?.toISOString()).toBe(uncached(spec, anchor, now)?.toISOString());
    }), { numRuns: 2000 });
    // Most draws must exercise the cached path, or the property says little about it.
    expect(served).toBeGreaterThan(500);
  });

  it('answers from the stored next fire without computing the schedule', () => {
    const now = new Date('2026-06-01T12:00:00Z');
    // Deliberately not an instant of the expression: only the stored value can produce it.
    const stored = new Date('2026-06-02T12:34:56Z');
    const row = { cron: '0 3 * * *', everyMs: null, timezone: 'UTC', anchorAt: new Date('2026-06-01T03:00:00Z'), createdAt: new Date(0), nextFireAt: stored };
    expect(nextRunAt(row, now)).toEqual(stored);
  });

  it('computes the instant when the stored one is missing, behind the anchor or already due', () => {
    const spec = { cron: '0 3 * * *', everyMs: null, timezone: 'UTC' };
    const now = new Date('2026-06-01T12:00:00Z');
    const anchorAt = new Date('2026-06-01T03:00:00Z');
    const expected = '2026-06-02T03:00:00.000Z';
    for (const nextFireAt of [null, new Date('2026-06-01T03:00:00Z'), new Date('2026-05-31T03:00:00Z')]) {
      expect(nextRunAt({ ...spec, anchorAt, createdAt: new Date(0), nextFireAt }, now)?.toISOString()).toBe(expected);
    }
    // Due and not fired yet (the anchor still before it): the next instant after now, as before.
    const due = { ...spec, anchorAt: new Date('2026-05-31T03:00:00Z'), createdAt: new Date(0), nextFireAt: new Date('2026-06-01T03:00:00Z') };
    expect(nextRunAt(due, now)?.toISOString()).toBe(expected);
  });
});
