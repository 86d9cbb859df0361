import { ApiProperty } from '@nestjs/swagger';
import type { PipelineConfig } from '../config/config.types.js';
import { formatDuration } from '../config/durations.js';

/** A pipeline as the API shows it: what runs and under which limits. Never `env` values or webhook targets. */
export interface PipelineView {
  id: string;
  /** argv as configured; with `shell`, command[0] is a script for `/bin/sh -c`. */
  command: string[];
  shell: boolean;
  timeout: string;
  killGrace: string;
  maxOutputBytes: number;
  retries: { max: number; backoff: string; factor: number };
  /** Names (not values) of daemon variables the child inherits. */
  passEnv: string[];
}

/** The catalog in config order. */
export function pipelineViews(pipelines: Map<string, PipelineConfig>): PipelineView[] {
  return [...pipelines.values()].map((pipeline) => ({
    id: pipeline.id,
    command: pipeline.command,
    shell: pipeline.shell,
    timeout: formatDuration(pipeline.timeoutMs),
    killGrace: formatDuration(pipeline.killGraceMs),
    maxOutputBytes: pipeline.maxOutputBytes,
    retries: { max: pipeline.retries.max, backoff: formatDuration(pipeline.retries.backoffMs), factor: pipeline.retries.factor },
    passEnv: pipeline.passEnv,
  }));
}

class RetriesResponse {
  @ApiProperty({ description: 'Retries after the first attempt.' }) max: number;
  @ApiProperty({ example: '30s' }) backoff: string;
  @ApiProperty() factor: number;
}

/** The documented shape of `PipelineView` (OpenAPI). */
export class PipelineResponse implements PipelineView {
  @ApiProperty() id: string;
  @ApiProperty({ type: [String] }) command: string[];
  @ApiProperty() shell: boolean;
  @ApiProperty({ example: '4h' }) timeout: string;
  @ApiProperty({ example: '30s' }) killGrace: string;
  @ApiProperty() maxOutputBytes: number;
  @ApiProperty({ type: RetriesResponse }) retries: RetriesResponse;
  @ApiProperty({ type: [String], description: 'Names only; values are never shown.' }) passEnv: string[];
}
