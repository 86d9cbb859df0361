import { MAX_STAGE_AHEAD_MS, STAGE_AHEAD_MS, stageLeadMs } from './stage-lead.js';

const HOUR = 3_600_000;
const next = new Date('2026-11-27T12:00:00Z');
const hourBefore = new Date(next.getTime() - HOUR);

describe('stageLeadMs', () => {
  it('is 2 s for a job alone or with a few thousand others at its instant', () => {
    expect(stageLeadMs(next, hourBefore, 1)).toBe(STAGE_AHEAD_MS);
    expect(stageLeadMs(next, hourBefore, 4_000)).toBe(STAGE_AHEAD_MS);
  });

  it('grows by half a millisecond for each job sharing the instant beyond that, up to 15 s', () => {
    expect(stageLeadMs(next, hourBefore, 8_000)).toBe(4_000);
    expect(stageLeadMs(next, hourBefore, 10_001)).toBe(5_001);
    expect(stageLeadMs(next, hourBefore, 1_000_000)).toBe(MAX_STAGE_AHEAD_MS);
  });

  it('is at most half the time since the instant before, however many share the instant', () => {
    expect(stageLeadMs(next, new Date(next.getTime() - 1_000), 1)).toBe(500);
    expect(stageLeadMs(next, new Date(next.getTime() - 5_000), 8_000)).toBe(2_500);
    expect(stageLeadMs(next, next, 8_000)).toBe(0);
  });
});
