import { formatDuration } from '../config/durations.js';
import type { RunFinish } from '../runs/runs.repository.js';
import type { RunResult } from './process-runner.js';

/** Turns what the process did into the run's final state and the reason shown to people. */
export function runOutcome(result: RunResult, timeoutMs: number, killGraceMs: number, cancelReason: string | null): Pick<RunFinish, 'status' | 'error'> {
  const forced = result.forceKilled ? ` (still alive after ${formatDuration(killGraceMs)}: killed with SIGKILL)` : '';
  if (result.cancelled) return { status: 'cancelled', error: `${cancelReason ?? 'cancelled'}${forced}` };
  if (result.timedOut) return { status: 'timed_out', error: `timed out after ${formatDuration(timeoutMs)}${forced}` };
  if (result.error) return { status: 'failed', error: result.error };
  if (result.exitCode === 0) return { status: 'succeeded', error: null };
  if (result.exitCode !== null) return { status: 'failed', error: `exited with code ${result.exitCode}` };
  return { status: 'failed', error: `killed by ${result.signal ?? 'an unknown signal'}` };
}
