import { percentile, summary } from '../../bench/lib/stats.mjs';

describe("the bench's summaries of samples", () => {
  it('summarises more samples than a spread call can take (the scale scenario on a fast machine)', () => {
    const values = Array.from({ length: 300_000 }, (_, index) => 299_999 - index);
    expect(summary(values)).toEqual({ n: 300_000, p50: 149_999, p99: 296_999, max: 299_999 });
  });

  it('gives nulls for no samples', () => {
    expect(summary([])).toEqual({ n: 0, p50: null, p99: null, max: null });
    expect(percentile([], 50)).toBeNull();
  });
});
