import { msInterval } from '../database/sql.js';

/**
 * SQL: whether the `cw_nodes` row aliased `n` is a live node: not stopped, and its heartbeat within
 * the node timeout, in ms, given by `timeoutMs` (a parameter such as `$1`). By the database's clock,
 * the one all nodes share. Every statement that asks uses this, so that they agree on who is alive.
 */
export function nodeAlive(n: string, timeoutMs: string): string {
  return `(${n}.stopped_at IS NULL AND ${n}.heartbeat_at >= now() - ${msInterval(timeoutMs)})`;
}
