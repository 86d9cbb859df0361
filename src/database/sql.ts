/**
 * SQL: an interval of `ms` milliseconds, `ms` being a parameter (`$1`) or a column. Through double
 * precision, so that a parameter sent as text and a bigint column both convert, fractions included.
 */
export function msInterval(ms: string): string {
  return `make_interval(secs => ${ms}::double precision / 1000)`;
}
