/**
 * How long before its instant a job's run is staged (see stageLeadMs), unless many jobs share the
 * instant. A change of the job in this window undoes the staging or updates the staged run's params
 * (migration StagedRunsUndone1764000012000).
 */
export const STAGE_AHEAD_MS = 2_000;
/**
 * The lead an instant needs per job that shares it, when they are many: twice what the embedded
 * database took to record a staged run on the slowest machine measured (10,000 in 2.3 s, bench
 * lateness). The fastest took 1.2 s, which 2 s covered; the slowest did not.
 */
export const STAGE_MS_PER_JOB = 0.5;
/** The longest lead, however many jobs share an instant. */
export const MAX_STAGE_AHEAD_MS = 15_000;

/**
 * How long before its `next` instant a job is staged, `sharing` jobs (itself included) being staged
 * for that instant: STAGE_AHEAD_MS, or STAGE_MS_PER_JOB for each of them when that is longer (up to
 * MAX_STAGE_AHEAD_MS), so that they are all recorded before it; at most half the time since the
 * instant before (`anchor`, or the job's creation). Staged a full 2 s ahead, a per-second job
 * always found its previous run still queued, so it was never staged; half a second ahead, a run
 * that ends within that half leaves the next instant free to stage, and one that does not is
 * declined as before.
 */
export function stageLeadMs(next: Date, anchor: Date, sharing: number): number {
  const sincePrevious = next.getTime() - anchor.getTime();
  const lead = Math.min(MAX_STAGE_AHEAD_MS, Math.max(STAGE_AHEAD_MS, Math.ceil(sharing * STAGE_MS_PER_JOB)));
  return Math.max(0, Math.min(lead, Math.floor(sincePrevious / 2)));
}
