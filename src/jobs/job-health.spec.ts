import { nextFireAfter, type ScheduleSpec } from '../scheduler/schedule.js';
import { CronLimitMemo, cronLimit, freshnessLimitMs, jobHealth } from './job-health.js';

const now = new Date('2026-06-01T12:00:00Z');
const hours = (n: number) => n * 3_600_000;
const base = { paused: false, createdAt: new Date('2026-01-01T00:00:00Z'), lastSuccessAt: new Date(now.getTime() - hours(1)), lastFinishedStatus: 'succeeded', limitMs: hours(10), now };

describe('freshnessLimitMs', () => {
  it('uses expectSuccessWithin when set', () => {
    expect(freshnessLimitMs({ cron: null, everyMs: hours(5), timezone: 'UTC' }, hours(1), now)).toBe(hours(1));
  });
  it('defaults to twice the interval of an every job', () => {
    expect(freshnessLimitMs({ cron: null, everyMs: hours(5), timezone: 'UTC' }, null, now)).toBe(hours(10));
  });
  it('defaults to twice the gap between the next two instants of a cron job', () => {
    expect(freshnessLimitMs({ cron: '0 3 * * *', everyMs: null, timezone: 'Europe/Berlin' }, null, now)).toBe(hours(48));
  });
});

describe('freshnessLimitMs of a cron job, memoised', () => {
  // Gaps of 8 h, 16 h and (over the weekend) 64 h, and a DST change on 2026-03-29 and 2026-10-25.
  const spec: ScheduleSpec = { cron: '0 9,17 * * 1-5', everyMs: null, timezone: 'Europe/Berlin' };
  const instants = (from: string, count: number) => {
    const result: Date[] = [];
    for (let at = nextFireAfter(spec, new Date(from), null); at && result.length < count; at = nextFireAfter(spec, at, null)) result.push(at);
    return result;
  };
  const around = (at: Date) => [-1000, -1, 0, 1, 1000].map((ms) => new Date(at.getTime() + ms));

  it('equals the uncached computation just before, at and just after every instant, across DST changes', () => {
    const memo = new CronLimitMemo(16);
    for (const from of ['2026-03-20T00:00:00Z', '2026-10-16T00:00:00Z']) {
      for (const now of instants(from, 40).flatMap(around)) {
        expect([now.toISOString(), memo.limitMs(spec, now)]).toEqual([now.toISOString(), cronLimit(spec, now).limitMs]);
        expect([now.toISOString(), freshnessLimitMs(spec, null, now)]).toEqual([now.toISOString(), cronLimit(spec, now).limitMs]);
      }
    }
  });

  it('stays exact when asked about an earlier time than it computed at', () => {
    const memo = new CronLimitMemo(16);
    for (const now of instants('2026-03-20T00:00:00Z', 20).flatMap(around).reverse()) {
      expect([now.toISOString(), memo.limitMs(spec, now)]).toEqual([now.toISOString(), cronLimit(spec, now).limitMs]);
    }
  });

  it('computes once per expression and time zone until the first of the two instants passes', () => {
    let computed = 0;
    const memo = new CronLimitMemo(16, (s, at) => (computed++, cronLimit(s, at)));
    const [first] = instants('2026-06-01T12:00:00Z', 1);
    for (let at = Date.parse('2026-06-01T12:00:00Z'); at < first.getTime(); at += 60_000) memo.limitMs(spec, new Date(at));
    expect(computed).toBe(1);
    memo.limitMs({ ...spec, timezone: 'UTC' }, new Date('2026-06-01T12:00:00Z'));
    expect(computed).toBe(2);
    memo.limitMs(spec, first);
    expect(computed).toBe(3);
  });

  it('keeps at most its capacity of entries, dropping the oldest', () => {
    let computed = 0;
    const memo = new CronLimitMemo(3, (s, at) => (computed++, cronLimit(s, at)));
    const specs = [1, 2, 3, 4, 5].map((hour): ScheduleSpec => ({ cron: `0 ${hour} * * *`, everyMs: null, timezone: 'UTC' }));
    for (const each of specs) memo.limitMs(each, now);
    expect(memo.size).toBe(3);
    memo.limitMs(specs[4], now);
    expect(computed).toBe(5);
    memo.limitMs(specs[0], now);
    expect(computed).toBe(6);
  });
});

describe('jobHealth', () => {
  it('is ok after a recent success', () => {
    expect(jobHealth(base)).toBe('ok');
  });
  it('is failing when the latest finished run failed, timed out or was abandoned', () => {
    for (const status of ['failed', 'timed_out', 'abandoned']) expect(jobHealth({ ...base, lastFinishedStatus: status })).toBe('failing');
  });
  it('is late when the last success is older than the limit', () => {
    expect(jobHealth({ ...base, lastSuccessAt: new Date(now.getTime() - hours(11)) })).toBe('late');
  });
  it('counts from creation until the first success', () => {
    expect(jobHealth({ ...base, lastSuccessAt: null, lastFinishedStatus: null, createdAt: new Date(now.getTime() - hours(2)) })).toBe('ok');
    expect(jobHealth({ ...base, lastSuccessAt: null, lastFinishedStatus: null, createdAt: new Date(now.getTime() - hours(12)) })).toBe('late');
  });
  it('is ok while paused', () => {
    expect(jobHealth({ ...base, paused: true, lastFinishedStatus: 'failed' })).toBe('ok');
  });
});
