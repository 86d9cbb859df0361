/** Summaries of samples: percentiles by nearest rank, rounded for the table and the JSON. */

/** The nearest-rank percentile `p` (0–100) of `values`; null when there are none. */
export function percentile(values, p) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

/**
 * `{ n, p50, p99, max }` of `values` (ms or any unit), rounded to 0.1. The maximum by a loop, not
 * `Math.max(...values)`: spread, 150,000 samples (the scale scenario's lists on a fast machine)
 * overflow the call stack.
 */
export function summary(values) {
  return {
    n: values.length,
    p50: round(percentile(values, 50)),
    p99: round(percentile(values, 99)),
    max: round(values.length === 0 ? null : values.reduce((max, value) => (value > max ? value : max), -Infinity)),
  };
}

/** Rounds to `digits` decimals; null stays null. */
export function round(value, digits = 1) {
  if (value === null || value === undefined || !Number.isFinite(value)) return value ?? null;
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** `a / b` rounded to 2 decimals, or null when either is missing or b is 0. */
export function ratio(a, b) {
  if (a === null || b === null || a === undefined || b === undefined || b === 0) return null;
  return round(a / b, 2);
}

export const MiB = 1024 * 1024;
