import { Logger } from '@nestjs/common';
import { Clock } from '../common/clock.js';
import type { CronwardenConfig } from '../config/config.types.js';
import { ClockCheck } from './clock-check.js';

/** A wall clock the test sets; the monotonic clock is the real one, so "now" must move with it. */
class TestClock extends Clock {
  offset = 0;
  override now(): number {
    return Date.now() + this.offset;
  }
}

describe('ClockCheck', () => {
  beforeAll(() => Logger.overrideLogger(false));
  const setup = () => {
    const clock = new TestClock();
    return { clock, check: new ClockCheck({ daemon: { maxClockSkewMs: 2_000 } } as CronwardenConfig, clock) };
  };
  /** A measurement whose round trip took 10 ms, with the database at `databaseMinusLocal` from the local clock. */
  const measure = ({ clock, check }: ReturnType<typeof setup>, localMinusDatabase: number) => {
    const now = clock.now();
    check.measure(now - 10, now - 5 - localMinusDatabase, now);
  };

  it('agrees before any measurement and while the clocks differ by no more than maxClockSkew', () => {
    const clock = setup();
    expect(clock.check.agrees).toBe(true);
    // Just inside the limit: the wall/monotonic drift term can round a skew of exactly 2000 to 2001.
    measure(clock, 1_990);
    expect(clock.check.agrees).toBe(true);
    expect(Math.abs(clock.check.currentSkewMs! - 1_990)).toBeLessThanOrEqual(2);
  });

  it('disagrees when this node runs ahead or behind by more, and agrees again once it is back', () => {
    const clock = setup();
    measure(clock, 3_000);
    expect(clock.check).toMatchObject({ skewMs: 3_000, agrees: false });
    measure(clock, 0);
    expect(clock.check.agrees).toBe(true);
    measure(clock, -2_500);
    expect(clock.check).toMatchObject({ skewMs: -2_500, agrees: false });
  });

  it('notices a jump of the wall clock at once, before the next measurement', () => {
    const clock = setup();
    measure(clock, 0);
    clock.clock.offset = 86_400_000;
    expect(clock.check.agrees).toBe(false);
    expect(clock.check.currentSkewMs).toBeGreaterThanOrEqual(86_399_000);
    clock.clock.offset = 0;
    expect(clock.check.agrees).toBe(true);
  });

  it('ignores a measurement whose round trip is too slow to tell', () => {
    const { check } = setup();
    check.measure(10_000, 0, 12_001);
    expect(check).toMatchObject({ skewMs: null, agrees: true });
  });
});
