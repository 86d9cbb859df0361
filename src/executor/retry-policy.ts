import type { RetryPolicy } from '../config/config.types.js';
import type { RunStatus } from '../runs/run.entity.js';

/** Endings that earn a retry. A cancel was asked for, and a skip never ran: neither is retried. */
export const RETRIED_STATUSES: readonly RunStatus[] = ['failed', 'timed_out', 'abandoned'];

/**
 * How long to wait before retrying a run that ended as attempt `attempt`, or null when the policy
 * has no retry left: `backoff * factor^(attempt - 1)`, so with 30s and 2 the retries wait 30s,
 * 60s, 120s…
 */
export function retryDelayMs(policy: RetryPolicy, attempt: number): number | null {
  if (attempt > policy.max) return null;
  return Math.round(policy.backoffMs * policy.factor ** (attempt - 1));
}
