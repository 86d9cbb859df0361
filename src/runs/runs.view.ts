import type { RunRow } from './runs.repository.js';

/** A run as the API shows it. */
export interface RunView {
  id: string;
  jobId: string;
  status: string;
  trigger: string;
  scheduledFor: string | null;
  queuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  exitCode: number | null;
  signal: string | null;
  attempt: number;
  triggeredBy: string | null;
  nodeId: string | null;
  params: Record<string, unknown>;
  outputBytes: number;
  outputDroppedBytes: number;
  outputTruncated: boolean;
  error: string | null;
  parentRunId: string | null;
  cancelRequestedBy: string | null;
}

const iso = (value: Date | null) => value?.toISOString() ?? null;

export function runView(row: RunRow): RunView {
  return {
    id: row.id,
    jobId: row.jobId,
    status: row.status,
    trigger: row.trigger,
    scheduledFor: iso(row.scheduledFor),
    queuedAt: row.queuedAt.toISOString(),
    startedAt: iso(row.startedAt),
    finishedAt: iso(row.finishedAt),
    durationMs: row.durationMs,
    exitCode: row.exitCode,
    signal: row.signal,
    attempt: row.attempt,
    triggeredBy: row.triggeredBy,
    nodeId: row.nodeId,
    params: row.params,
    outputBytes: row.outputBytes,
    outputDroppedBytes: row.outputDroppedBytes,
    outputTruncated: row.outputTruncated,
    error: row.error,
    parentRunId: row.parentRunId,
    cancelRequestedBy: row.cancelRequestedBy,
  };
}
