import { retryDelayMs } from './retry-policy.js';

describe('retryDelayMs', () => {
  const policy = { max: 3, backoffMs: 30_000, factor: 2 };

  it('waits the backoff before the first retry and multiplies it by the factor for each further one', () => {
    expect([1, 2, 3].map((attempt) => retryDelayMs(policy, attempt))).toEqual([30_000, 60_000, 120_000]);
  });

  it('gives no retry once the attempts used up the maximum', () => {
    expect(retryDelayMs(policy, 4)).toBeNull();
    expect(retryDelayMs({ ...policy, max: 0 }, 1)).toBeNull();
  });

  it('retries at once with a zero backoff', () => {
    expect(retryDelayMs({ max: 1, backoffMs: 0, factor: 2 }, 1)).toBe(0);
  });
});
