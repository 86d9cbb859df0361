import { freshnessLimitMs, jobHealth } from './job-health.js';

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
