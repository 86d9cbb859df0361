import type { CatchupPolicy } from '../config/config.types.js';
import { missedInstants, type ScheduleSpec } from './schedule.js';

/** One thing to record for missed instants, in time order: a skipped range, or a catch-up run. */
export type CatchupStep =
  | { kind: 'skip'; first: Date; last: Date; count: number; reason: string }
  | { kind: 'run'; at: Date };

/** Never more catch-up runs than this for one job at once, whatever the policy says. */
export const MAX_CATCHUP_RUNS = 100;

/**
 * Plans what to record for the instants in (anchor, until] that were missed while no node fired:
 * `skip` runs none, `once` the latest within the window, `all` each within the window (the oldest
 * 100). Everything not run becomes a skipped range (one row), so "why didn't it run?" has an
 * answer. Steps come in time order, because each moves the job's anchor forward.
 */
export function planCatchup(spec: ScheduleSpec, policy: CatchupPolicy, anchor: Date, until: Date, windowStart: Date): CatchupStep[] {
  const missed = missedInstants(spec, anchor, until, 0);
  if (missed.total === 0 || !missed.first || !missed.last) return [];
  if (policy === 'once' && missed.last >= windowStart) {
    const before = missedInstants(spec, anchor, new Date(missed.last.getTime() - 1), 0);
    return [...skipRange(before, 'caught up by one run of the latest instant'), { kind: 'run', at: missed.last }];
  }
  if (policy === 'all' && missed.last >= windowStart) {
    const beforeWindow = missedInstants(spec, anchor, new Date(windowStart.getTime() - 1), 0);
    const from = beforeWindow.last ?? anchor;
    const inWindow = missedInstants(spec, from, until, MAX_CATCHUP_RUNS);
    const runs = inWindow.instants;
    const afterRuns = missedInstants(spec, runs[runs.length - 1], until, 0);
    return [
      ...skipRange(beforeWindow, 'outside the catch-up window'),
      ...runs.map((at): CatchupStep => ({ kind: 'run', at })),
      ...skipRange(afterRuns, `catch-up policy all runs at most ${MAX_CATCHUP_RUNS} instants`),
    ];
  }
  const why = policy === 'skip' ? 'catch-up policy skip' : 'outside the catch-up window';
  return skipRange(missed, why);
}

function skipRange(range: { first: Date | null; last: Date | null; total: number; totalCapped: boolean }, why: string): CatchupStep[] {
  if (!range.first || !range.last || range.total === 0) return [];
  const count = range.totalCapped ? `more than ${range.total}` : String(range.total);
  const what = range.total === 1 ? `instant ${range.first.toISOString()}` : `${count} instants from ${range.first.toISOString()} to ${range.last.toISOString()}`;
  return [{ kind: 'skip', first: range.first, last: range.last, count: range.total, reason: `missed ${what} while no node was firing; ${why}` }];
}

