import { ApiProperty } from '@nestjs/swagger';
import { RUN_STATUSES, RUN_TRIGGERS } from './run.entity.js';
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
  peakRssBytes: number | null;
  cpuSeconds: number | null;
}

/** One run with what its child last reported on a `::progress <0-100> [note]` stdout line. */
export type RunDetail = RunView & { progress: number | null; progressNote: string | null; retryRunId: string | null };

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
    peakRssBytes: row.peakRssBytes,
    cpuSeconds: row.cpuSeconds,
  };
}

const nullable = (type: typeof String | typeof Number, description?: string) => ApiProperty({ type, nullable: true, description });

/** The documented shape of `RunView` (OpenAPI). */
export class RunResponse implements RunView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() jobId: string;
  @ApiProperty({ enum: RUN_STATUSES }) status: string;
  @ApiProperty({ enum: RUN_TRIGGERS }) trigger: string;
  @nullable(String, 'The instant the run is for (ISO 8601).') scheduledFor: string | null;
  @ApiProperty() queuedAt: string;
  @nullable(String) startedAt: string | null;
  @nullable(String) finishedAt: string | null;
  @nullable(Number) durationMs: number | null;
  @nullable(Number) exitCode: number | null;
  @nullable(String, 'The signal that ended the process, e.g. SIGTERM.') signal: string | null;
  @ApiProperty() attempt: number;
  @nullable(String, 'Who queued it: a token subject, or "scheduler".') triggeredBy: string | null;
  @nullable(String) nodeId: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'Handed to the child as JOB_INPUT.' }) params: Record<string, unknown>;
  @ApiProperty({ description: 'Bytes the child wrote, stored or not.' }) outputBytes: number;
  @ApiProperty() outputDroppedBytes: number;
  @ApiProperty() outputTruncated: boolean;
  @nullable(String, 'Why it failed, was skipped, cancelled or abandoned.') error: string | null;
  @nullable(String) parentRunId: string | null;
  @nullable(String) cancelRequestedBy: string | null;
  @nullable(Number, "Peak resident memory of the run's processes, sampled every 500 ms.") peakRssBytes: number | null;
  @nullable(Number, "CPU seconds (user + system) of the run's processes, sampled every 500 ms.") cpuSeconds: number | null;
}

/** A page of runs, newest first (OpenAPI). */
export class RunPageResponse {
  @ApiProperty({ type: [RunResponse] }) items: RunResponse[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next (older) page; null on the last.' }) nextCursor: string | null;
}

/** GET /api/cron/runs/:id (OpenAPI). */
export class RunDetailResponse extends RunResponse {
  @ApiProperty({ type: Number, nullable: true, description: 'The last `::progress <0-100> [note]` line the child printed on stdout.' })
  progress: number | null;
  @ApiProperty({ type: String, nullable: true }) progressNote: string | null;
  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'The retry queued after this run ended (its `parentRunId` is this run), if any.' })
  retryRunId: string | null;
}
