import { planCatchup } from './catchup.js';

const hourly = { cron: null, everyMs: 3600_000, timezone: 'UTC' };
const at = (iso: string) => new Date(iso);
const anchor = at('2026-01-01T00:00:00Z');
// Down from just after 00:00 until 10:30: instants 01:00 … 10:00 were missed (10 of them).
const until = at('2026-01-01T10:30:00Z');

describe('planCatchup', () => {
  it('records nothing when no instant was missed', () => {
    expect(planCatchup(hourly, 'once', anchor, at('2026-01-01T00:59:59Z'), at('2025-12-31T00:00:00Z'))).toEqual([]);
  });

  it('skip: records the whole missed range as one skipped row and runs nothing', () => {
    const steps = planCatchup(hourly, 'skip', anchor, until, at('2026-01-01T04:30:00Z'));
    expect(steps).toEqual([expect.objectContaining({ kind: 'skip', first: at('2026-01-01T01:00:00Z'), last: at('2026-01-01T10:00:00Z'), count: 10 })]);
    expect(steps[0].kind === 'skip' && steps[0].reason).toBe(
      'missed 10 instants from 2026-01-01T01:00:00.000Z to 2026-01-01T10:00:00.000Z while no node was firing; catch-up policy skip');
  });

  it('once: runs the latest missed instant and records the earlier ones as one skipped range', () => {
    const steps = planCatchup(hourly, 'once', anchor, until, at('2026-01-01T04:30:00Z'));
    expect(steps).toEqual([
      expect.objectContaining({ kind: 'skip', first: at('2026-01-01T01:00:00Z'), last: at('2026-01-01T09:00:00Z'), count: 9 }),
      { kind: 'run', at: at('2026-01-01T10:00:00Z') },
    ]);
  });

  it('once: runs nothing when even the latest missed instant is outside the window', () => {
    const steps = planCatchup(hourly, 'once', anchor, until, at('2026-01-01T10:15:00Z'));
    expect(steps).toHaveLength(1);
    expect(steps[0]).toMatchObject({ kind: 'skip', count: 10, reason: expect.stringContaining('outside the catch-up window') });
  });

  it('all: runs each instant within the window, oldest first, after skipping those before it', () => {
    const steps = planCatchup(hourly, 'all', anchor, until, at('2026-01-01T07:30:00Z'));
    expect(steps).toEqual([
      expect.objectContaining({ kind: 'skip', first: at('2026-01-01T01:00:00Z'), last: at('2026-01-01T07:00:00Z'), count: 7 }),
      { kind: 'run', at: at('2026-01-01T08:00:00Z') },
      { kind: 'run', at: at('2026-01-01T09:00:00Z') },
      { kind: 'run', at: at('2026-01-01T10:00:00Z') },
    ]);
  });

  it('all: runs at most 100 instants and records the rest as skipped', () => {
    const perMinute = { cron: '* * * * *', everyMs: null, timezone: 'UTC' };
    const steps = planCatchup(perMinute, 'all', anchor, at('2026-01-01T03:00:00Z'), anchor);
    const runs = steps.filter((step) => step.kind === 'run');
    expect(runs).toHaveLength(100);
    expect(runs[0]).toEqual({ kind: 'run', at: at('2026-01-01T00:01:00Z') });
    expect(steps[steps.length - 1]).toMatchObject({ kind: 'skip', first: at('2026-01-01T01:41:00Z'), last: at('2026-01-01T03:00:00Z'), count: 80 });
  });

  it('keeps an interval job on its anchor grid', () => {
    const offGrid = at('2026-01-01T00:17:00Z');
    const steps = planCatchup(hourly, 'once', offGrid, until, at('2026-01-01T00:00:00Z'));
    expect(steps[steps.length - 1]).toEqual({ kind: 'run', at: at('2026-01-01T10:17:00Z') });
  });
});
