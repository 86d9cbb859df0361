import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Cron } from 'croner';
import fc from 'fast-check';
import { missedInstants, nextFireAfter, upcoming, validateSchedule, type ScheduleSpec } from './schedule.js';

const HOUR = 3_600_000;
const cron = (expression: string, timezone = 'UTC'): ScheduleSpec => ({ cron: expression, everyMs: null, timezone });
const every = (everyMs: number, timezone = 'UTC'): ScheduleSpec => ({ cron: null, everyMs, timezone });
const iso = (date: Date | null) => date?.toISOString() ?? null;
const after = (spec: ScheduleSpec, instant: string, anchor: string | null = null) =>
  iso(nextFireAfter(spec, new Date(instant), anchor === null ? null : new Date(anchor)));

describe('validateSchedule', () => {
  it('accepts 5-field and 6-field expressions and croner nicknames in a known time zone', () => {
    expect(validateSchedule(cron('*/5 * * * *', 'Europe/Berlin'))).toBeNull();
    expect(validateSchedule(cron('30 0 3 * * MON-FRI', 'America/New_York'))).toBeNull();
    expect(validateSchedule(cron('@hourly'))).toBeNull();
    expect(validateSchedule(every(5 * HOUR))).toBeNull();
  });

  it('requires exactly one of cron and every', () => {
    expect(validateSchedule({ cron: '* * * * *', everyMs: 1000, timezone: 'UTC' })).toBe('exactly one of cron and every must be set');
    expect(validateSchedule({ cron: null, everyMs: null, timezone: 'UTC' })).toBe('exactly one of cron and every must be set');
  });

  it("reports croner's reason for a bad expression", () => {
    expect(validateSchedule(cron('61 * * * *'))).toBe('invalid cron expression "61 * * * *": Invalid value for minute: 61');
    expect(validateSchedule(cron('@hourly'))).toBeNull();
    expect(validateSchedule(cron('@fortnightly'))).toMatch(/^invalid cron expression "@fortnightly": .+/);
  });

  it('names how many fields an expression has when it is not 5 or 6', () => {
    const advice = 'write 5 (minute hour day-of-month month day-of-week) or 6 (seconds first)';
    expect(validateSchedule(cron('every day'))).toBe(`invalid cron expression "every day": it has 2 fields; ${advice}`);
    expect(validateSchedule(cron('0 0 0 1 1 * 2030'))).toBe(`invalid cron expression "0 0 0 1 1 * 2030": it has 7 fields; ${advice}`);
    expect(validateSchedule(cron(' '))).toBe(`invalid cron expression " ": it has 0 fields; ${advice}`);
    expect(validateSchedule(cron('5'))).toBe(`invalid cron expression "5": it has 1 field; ${advice}`);
  });

  it('rejects an expression that never matches a date', () => {
    expect(validateSchedule(cron('0 0 30 2 *'))).toBe('cron expression "0 0 30 2 *" never matches any date');
  });

  it('names an unknown or missing time zone, for cron and every alike', () => {
    expect(validateSchedule(cron('0 3 * * *', 'Mars/Olympus_Mons')))
      .toBe('unknown time zone "Mars/Olympus_Mons": use an IANA name such as "Europe/Berlin" or "UTC"');
    expect(validateSchedule(every(HOUR, 'Europe/Berlinn'))).toMatch(/^unknown time zone "Europe\/Berlinn"/);
    expect(validateSchedule(cron('0 3 * * *', ''))).toMatch(/^timezone is required/);
  });

  it('rejects an interval shorter than a second or not a whole number of milliseconds', () => {
    expect(validateSchedule(every(999))).toMatch(/at least 1000 \(1s\), got 999$/);
    expect(validateSchedule(every(1500.5))).toMatch(/whole number/);
    expect(validateSchedule(every(Number.NaN))).toMatch(/got NaN$/);
  });
});

describe('nextFireAfter with cron', () => {
  it('reads the expression in the time zone: 03:00 New York is 08:00Z in winter and 07:00Z in summer', () => {
    const spec = cron('0 3 * * *', 'America/New_York');
    expect(after(spec, '2026-01-10T00:00:00Z')).toBe('2026-01-10T08:00:00.000Z');
    expect(after(spec, '2026-07-10T00:00:00Z')).toBe('2026-07-10T07:00:00.000Z');
  });

  it('takes a leading seconds field in 6-field expressions', () => {
    expect(after(cron('15 30 * * * *'), '2026-05-01T12:00:00Z')).toBe('2026-05-01T12:30:15.000Z');
  });

  it('returns an instant strictly after the given one, also when that one is scheduled', () => {
    expect(after(cron('0 12 * * *'), '2026-05-01T12:00:00Z')).toBe('2026-05-02T12:00:00.000Z');
    expect(after(cron('0 12 * * *'), '2026-05-01T11:59:59.999Z')).toBe('2026-05-01T12:00:00.000Z');
  });

  it('fires a 02:30 Berlin job once on spring-forward day, at 03:00 local (01:00Z)', () => {
    const spec = cron('30 2 * * *', 'Europe/Berlin');
    expect(after(spec, '2026-03-28T12:00:00Z')).toBe('2026-03-29T01:00:00.000Z');
    expect(after(spec, '2026-03-29T01:00:00Z')).toBe('2026-03-30T00:30:00.000Z');
  });

  it('fires a 02:30 Berlin job once on fall-back day', () => {
    const spec = cron('30 2 * * *', 'Europe/Berlin');
    // Of the two 02:30s it takes the first, still in summer time: 02:30+02:00 = 00:30Z (not 01:30Z).
    expect(after(spec, '2026-10-24T12:00:00Z')).toBe('2026-10-25T00:30:00.000Z');
    const localDay = missedInstants(spec, new Date('2026-10-24T22:00:00Z'), new Date('2026-10-25T22:59:59Z'), 10);
    expect(localDay.instants.map(iso)).toEqual(['2026-10-25T00:30:00.000Z']);
  });

  it('returns null for an expression without another run', () => {
    expect(after(cron('0 0 30 2 *'), '2026-01-01T00:00:00Z')).toBeNull();
  });

  it('never returns an instant at or before the given one, across time zones and DST days', () => {
    const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe'];
    const expressions = ['30 2 * * *', '*/7 * * * *', '0 0 1 * *', '*/20 * 1-3 * * *'];
    const start = Date.UTC(2026, 0, 1);
    fc.assert(fc.property(
      fc.constantFrom(...zones), fc.constantFrom(...expressions), fc.integer({ min: 0, max: 365 * 24 * HOUR }),
      (zone, expression, offset) => {
        const from = new Date(start + offset);
        expect(nextFireAfter(cron(expression, zone), from, null)!.getTime()).toBeGreaterThan(from.getTime());
      },
    ), { numRuns: 300 });
  });
});

describe('cached cron schedules', () => {
  const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe'];
  const expressions = ['30 2 * * *', '*/7 * * * *', '0 0 29 2 *', '0 0 1 1 *', '59 23 31 12 *', '0 30 4 * * 1', '0 0 L * *'];

  it('fire when a fresh croner instance says, across year ends and leap days', () => {
    // newCron drops croner's table of years; croner must not need it for 5- and 6-field patterns.
    const start = Date.UTC(2026, 0, 1);
    fc.assert(fc.property(
      fc.constantFrom(...zones), fc.constantFrom(...expressions), fc.integer({ min: 0, max: 8 * 365 * 24 * HOUR }),
      (zone, expression, offset) => {
        const from = new Date(start + offset);
        const fresh = new Cron(expression, { timezone: zone, paused: true, mode: '5-or-6-parts' });
        expect(iso(nextFireAfter(cron(expression, zone), from, null))).toBe(iso(fresh.nextRun(from)));
        // Past the count cap, missedInstants finds the last instant backwards (previousRuns).
        const anchor = new Date(from.getTime() - 400 * 24 * HOUR);
        const previous = fresh.previousRuns(1, new Date(from.getTime() + 1))[0] ?? null;
        const missed = missedInstants(cron(expression, zone), anchor, from, 0, 1);
        expect(iso(missed.last)).toBe(previous !== null && previous > anchor ? iso(previous) : null);
      },
    ), { numRuns: 200 });
  });

  it('keep a few KiB per expression, not croner\'s 80 KiB table of years', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const before = process.memoryUsage().heapUsed;
    // 1,024 distinct expressions: as many as the cache keeps.
    for (let i = 0; i < 1024; i++) nextFireAfter(cron(`${i % 60} ${Math.floor(i / 60) % 24} * * ${i % 7}`), new Date(Date.UTC(2026, 0, 1)), null);
    gc();
    // Each kept its table of years before: 82 MiB for these.
    expect((process.memoryUsage().heapUsed - before) / 1024).toBeLessThan(1024 * 16);
  });
});

describe('nextFireAfter with every', () => {
  const fiveHours = every(5 * HOUR);

  it('keeps to the anchor: anchored at 10:00Z, after 12:34Z comes 15:00Z', () => {
    expect(after(fiveHours, '2026-01-01T12:34:00Z', '2026-01-01T10:00:00Z')).toBe('2026-01-01T15:00:00.000Z');
  });

  it('moves past an instant it is given exactly: after 15:00Z comes 20:00Z', () => {
    expect(after(fiveHours, '2026-01-01T15:00:00Z', '2026-01-01T10:00:00Z')).toBe('2026-01-01T20:00:00.000Z');
  });

  it('without an anchor fires one interval after the given instant', () => {
    expect(after(fiveHours, '2026-01-01T12:34:56.789Z')).toBe('2026-01-01T17:34:56.789Z');
  });

  it('jumps over a long downtime in one step, landing on the anchor grid', () => {
    // 2026-01-01T10:00Z + 1750 * 5h = 2027-01-01T00:00Z; the next grid point is 05:00Z.
    expect(after(fiveHours, '2027-01-01T01:00:00Z', '2026-01-01T10:00:00Z')).toBe('2027-01-01T05:00:00.000Z');
  });

  it('always lands on the anchor grid, strictly after the instant and less than an interval later', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 4e12 }), fc.integer({ min: 0, max: 4e12 }), fc.integer({ min: 1000, max: 1e10 }),
      (anchor, from, everyMs) => {
        const next = nextFireAfter(every(everyMs), new Date(from), new Date(anchor))!.getTime();
        expect(next).toBeGreaterThan(from);
        expect(next - everyMs).toBeLessThanOrEqual(from);
        expect(Math.abs((next - anchor) % everyMs)).toBe(0);
      },
    ), { numRuns: 1000 });
  });
});

describe('missedInstants', () => {
  it('lists the oldest every-instants in (anchor, now] up to the limit and counts them all', () => {
    const missed = missedInstants(every(5 * HOUR), new Date('2026-01-01T10:00:00Z'), new Date('2026-01-02T06:00:00Z'), 2);
    expect(missed.instants.map(iso)).toEqual(['2026-01-01T15:00:00.000Z', '2026-01-01T20:00:00.000Z']);
    expect(missed).toMatchObject({ total: 4, totalCapped: false });
    expect(iso(missed.first)).toBe('2026-01-01T15:00:00.000Z');
    // now itself is scheduled, so it counts.
    expect(iso(missed.last)).toBe('2026-01-02T06:00:00.000Z');
  });

  it('finds nothing when now is not past the first instant after the anchor', () => {
    const missed = missedInstants(every(5 * HOUR), new Date('2026-01-01T10:00:00Z'), new Date('2026-01-01T14:59:59Z'), 5);
    expect(missed).toEqual({ instants: [], total: 0, totalCapped: false, first: null, last: null });
  });

  it('lists cron instants after the anchor (not the anchor itself) up to and including now', () => {
    const missed = missedInstants(cron('0 * * * *'), new Date('2026-01-01T00:00:00Z'), new Date('2026-01-01T10:00:00Z'), 3);
    expect(missed.instants.map(iso)).toEqual(['2026-01-01T01:00:00.000Z', '2026-01-01T02:00:00.000Z', '2026-01-01T03:00:00.000Z']);
    expect(missed).toMatchObject({ total: 10, totalCapped: false });
    expect(iso(missed.first)).toBe('2026-01-01T01:00:00.000Z');
    expect(iso(missed.last)).toBe('2026-01-01T10:00:00.000Z');
  });

  it('reports first and last even with a limit of zero', () => {
    const missed = missedInstants(cron('0 * * * *'), new Date('2026-01-01T00:00:00Z'), new Date('2026-01-01T10:30:00Z'), 0);
    expect(missed.instants).toEqual([]);
    expect([missed.total, iso(missed.first), iso(missed.last)]).toEqual([10, '2026-01-01T01:00:00.000Z', '2026-01-01T10:00:00.000Z']);
  });

  it('stops counting cron instants at the cap, flags the total as a lower bound and still knows the last', () => {
    const missed = missedInstants(cron('* * * * * *'), new Date('2026-01-01T00:00:00Z'), new Date('2026-01-01T01:00:00.500Z'), 2, 1000);
    expect(missed).toMatchObject({ total: 1000, totalCapped: true });
    expect(missed.instants.map(iso)).toEqual(['2026-01-01T00:00:01.000Z', '2026-01-01T00:00:02.000Z']);
    expect(iso(missed.first)).toBe('2026-01-01T00:00:01.000Z');
    expect(iso(missed.last)).toBe('2026-01-01T01:00:00.000Z');
  });
});

describe('upcoming', () => {
  const list = (spec: ScheduleSpec, from: string, n: number, anchor: string | null = null) =>
    upcoming(spec, new Date(from), n, anchor === null ? null : new Date(anchor))
      .map(({ at, local, offset, dstNote }) => ({ at: iso(at), local, offset, dstNote }));

  it('shows the local wall time and offset in the job\'s time zone', () => {
    expect(list(cron('0 3 * * *', 'America/New_York'), '2026-01-10T00:00:00Z', 1)).toEqual([
      { at: '2026-01-10T08:00:00.000Z', local: '2026-01-10T03:00:00-05:00', offset: '-05:00', dstNote: null },
    ]);
  });

  it('notes that a 02:30 Berlin job fires at 03:00 on spring-forward day', () => {
    expect(list(cron('30 2 * * *', 'Europe/Berlin'), '2026-03-28T00:00:00Z', 3)).toEqual([
      { at: '2026-03-28T01:30:00.000Z', local: '2026-03-28T02:30:00+01:00', offset: '+01:00', dstNote: null },
      {
        at: '2026-03-29T01:00:00.000Z', local: '2026-03-29T03:00:00+02:00', offset: '+02:00',
        dstNote: '02:30 does not exist on this day (DST); fires at 03:00',
      },
      { at: '2026-03-30T00:30:00.000Z', local: '2026-03-30T02:30:00+02:00', offset: '+02:00', dstNote: null },
    ]);
  });

  it('adds no note for a job scheduled at 03:00 itself on spring-forward day', () => {
    expect(list(cron('0 3 * * *', 'Europe/Berlin'), '2026-03-28T12:00:00Z', 1)).toEqual([
      { at: '2026-03-29T01:00:00.000Z', local: '2026-03-29T03:00:00+02:00', offset: '+02:00', dstNote: null },
    ]);
  });

  it('notes wall times that a spring-forward gap skips for a job with several times an hour', () => {
    // Croner treats a job with a list of minutes as an interval job: it skips times in the gap.
    expect(list(cron('15,45 2 * * *', 'Europe/Berlin'), '2026-03-28T12:00:00Z', 1)).toEqual([{
      at: '2026-03-30T00:15:00.000Z', local: '2026-03-30T02:15:00+02:00', offset: '+02:00',
      dstNote: '02:15 and 02:45 on 2026-03-29 do not exist (DST); skipped',
    }]);
  });

  it('notes that a 02:30 Berlin job fires only at the first 02:30 on fall-back day', () => {
    expect(list(cron('30 2 * * *', 'Europe/Berlin'), '2026-10-24T12:00:00Z', 2)).toEqual([
      {
        at: '2026-10-25T00:30:00.000Z', local: '2026-10-25T02:30:00+02:00', offset: '+02:00',
        dstNote: '02:30 occurs twice on this day (DST); fires once, at the first (+02:00)',
      },
      { at: '2026-10-26T01:30:00.000Z', local: '2026-10-26T02:30:00+01:00', offset: '+01:00', dstNote: null },
    ]);
  });

  it('notes both occurrences of the repeated hour for a job that runs every 30 minutes', () => {
    const notes = list(cron('*/30 * * * *', 'Europe/Berlin'), '2026-10-24T23:45:00Z', 5).map((i) => [i.local, i.dstNote]);
    expect(notes).toEqual([
      ['2026-10-25T02:00:00+02:00', '02:00 occurs twice on this day (DST); fires at both; this is the first (+02:00)'],
      ['2026-10-25T02:30:00+02:00', '02:30 occurs twice on this day (DST); fires at both; this is the first (+02:00)'],
      ['2026-10-25T02:00:00+01:00', '02:00 occurs twice on this day (DST); fires at both; this is the second (+01:00)'],
      ['2026-10-25T02:30:00+01:00', '02:30 occurs twice on this day (DST); fires at both; this is the second (+01:00)'],
      ['2026-10-25T03:00:00+01:00', null],
    ]);
  });

  it('spaces every-instants evenly in absolute time across a DST change, without notes', () => {
    expect(list(every(HOUR, 'Europe/Berlin'), '2026-03-29T00:30:00Z', 2, '2026-03-29T00:00:00Z')).toEqual([
      { at: '2026-03-29T01:00:00.000Z', local: '2026-03-29T03:00:00+02:00', offset: '+02:00', dstNote: null },
      { at: '2026-03-29T02:00:00.000Z', local: '2026-03-29T04:00:00+02:00', offset: '+02:00', dstNote: null },
    ]);
  });

  it('continues the every grid from the anchor and shows half-hour offsets', () => {
    expect(list(every(5 * HOUR, 'Asia/Kolkata'), '2026-01-01T12:34:00Z', 2, '2026-01-01T10:00:00Z').map((i) => i.local))
      .toEqual(['2026-01-01T20:30:00+05:30', '2026-01-02T01:30:00+05:30']);
  });

  it('stops early when the expression has no further run', () => {
    expect(list(cron('0 0 30 2 *'), '2026-01-01T00:00:00Z', 3)).toEqual([]);
  });
});
