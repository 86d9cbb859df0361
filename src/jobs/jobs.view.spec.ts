import type { JobRow } from './jobs.repository.js';
import { jobView, timedJobView } from './jobs.view.js';

const hours = (n: number) => n * 3_600_000;
const now = new Date('2026-06-03T12:00:00Z');

function row(fields: Partial<JobRow>): JobRow {
  return {
    id: 'job', name: 'job', pipeline: 'ok', cron: null, everyMs: null, timezone: 'UTC', params: {}, overlap: 'skip', catchup: 'once',
    catchupWindowMs: hours(6), jitterMs: 0, owner: 'alice', source: 'api', enabled: true, expectSuccessWithinMs: null, paused: false,
    pauseNote: null, pausedBy: null, pausedAt: null, anchorAt: null, nextFireAt: null, version: 1,
    createdAt: new Date('2026-06-03T11:00:00Z'), updatedAt: new Date('2026-06-03T11:00:00Z'), ...fields,
  } as JobRow;
}

/** `until` is exact: the view is the same at every instant checked before it, and differs at it. */
function expectExactUntil(job: JobRow, lastSuccessAt: Date | null) {
  const freshness = { lastSuccessAt, lastFinishedStatus: lastSuccessAt ? 'succeeded' : null };
  const { view, until } = timedJobView(job, null, now, freshness);
  expect(Number.isFinite(until)).toBe(true);
  expect(until).toBeGreaterThan(now.getTime());
  for (const at of [now.getTime() + 1, (now.getTime() + until) / 2, until - 1]) {
    expect(jobView(job, null, new Date(Math.floor(at)), freshness)).toEqual(view);
  }
  expect(jobView(job, null, new Date(until), freshness)).not.toEqual(view);
  return until;
}

describe('timedJobView', () => {
  it('holds until the next run passes (stored by the scheduler)', () => {
    const until = expectExactUntil(row({ cron: '30 12 * * *', nextFireAt: new Date('2026-06-03T12:30:00Z') }), new Date('2026-06-03T11:59:00Z'));
    expect(new Date(until).toISOString()).toBe('2026-06-03T12:30:00.000Z');
  });

  it('holds until the next run passes (computed, nothing stored)', () => {
    const until = expectExactUntil(row({ everyMs: hours(1), anchorAt: new Date('2026-06-03T11:40:00Z') }), new Date('2026-06-03T11:45:00Z'));
    expect(new Date(until).toISOString()).toBe('2026-06-03T12:40:00.000Z');
  });

  it('holds until the job turns late, the millisecond after its limit passes', () => {
    const job = row({ everyMs: hours(24), expectSuccessWithinMs: hours(1), anchorAt: now });
    const until = expectExactUntil(job, new Date('2026-06-03T11:30:00Z'));
    expect(new Date(until).toISOString()).toBe('2026-06-03T12:30:00.001Z');
    expect(jobView(job, null, new Date(until), { lastSuccessAt: new Date('2026-06-03T11:30:00Z'), lastFinishedStatus: 'succeeded' }).health).toBe('late');
  });

  it('holds for a paused cron job until its freshness limit can move (its next instant)', () => {
    const until = expectExactUntil(row({ cron: '0 13,14 * * *', paused: true }), null);
    expect(new Date(until).toISOString()).toBe('2026-06-03T13:00:00.000Z');
  });

  it('holds forever for a paused interval job, which time does not change', () => {
    expect(timedJobView(row({ everyMs: hours(1), paused: true }), null, now, undefined).until).toBe(Number.POSITIVE_INFINITY);
  });
});
