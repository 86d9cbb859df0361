import { randomBytes } from 'node:crypto';
import { InvalidInputError } from '../common/errors.js';
import type { JobConfig, PipelineConfig } from '../config/config.types.js';
import { formatDuration, parseDuration } from '../config/durations.js';
import { validateSchedule } from '../scheduler/schedule.js';
import type { CreateJobDto, UpdateJobDto } from './jobs.dto.js';
import type { JobRow } from './jobs.repository.js';

/** What an API job is made of: the schedule fields a config job has too, and its owner. */
export type JobDefinition = Pick<JobConfig, 'name' | 'pipeline' | 'cron' | 'everyMs' | 'timezone' | 'params' | 'overlap' | 'catchup' | 'catchupWindowMs' | 'jitterMs'> & {
  owner: string;
};

const DEFAULT_CATCHUP_WINDOW_MS = 6 * 3_600_000;

/**
 * The definition of a new job from a validated body, with defaults filled in.
 * @throws InvalidInputError naming the field when the schedule or the pipeline is unusable.
 */
export function newJobDefinition(dto: CreateJobDto, id: string, owner: string, pipelines: Map<string, PipelineConfig>): JobDefinition {
  if (dto.cron === undefined && dto.every === undefined) {
    throw new InvalidInputError('cron', 'a job needs a schedule: cron (e.g. "0 3 * * *") or every (e.g. 5h)');
  }
  return checked({
    name: dto.name ?? id,
    pipeline: dto.pipeline,
    ...schedule(dto),
    timezone: dto.timezone ?? 'UTC',
    params: dto.params ?? {},
    overlap: dto.overlap ?? 'skip',
    catchup: dto.catchup ?? 'once',
    catchupWindowMs: dto.catchupWindow === undefined ? DEFAULT_CATCHUP_WINDOW_MS : parseDuration(dto.catchupWindow),
    jitterMs: dto.jitter === undefined ? 0 : parseDuration(dto.jitter),
    owner,
  }, pipelines);
}

/**
 * A job's definition with the fields of a PATCH applied; giving `cron` drops `every` and the
 * reverse. `scheduleChanged` says whether the instants it fires at moved.
 * @throws InvalidInputError naming the field when the result is unusable.
 */
export function changedJobDefinition(
  current: JobRow, dto: UpdateJobDto, pipelines: Map<string, PipelineConfig>,
): { definition: JobDefinition; scheduleChanged: boolean } {
  const definition = checked({
    name: dto.name ?? current.name,
    pipeline: dto.pipeline ?? current.pipeline,
    ...(dto.cron === undefined && dto.every === undefined ? { cron: current.cron, everyMs: current.everyMs } : schedule(dto)),
    timezone: dto.timezone ?? current.timezone,
    params: dto.params ?? current.params,
    overlap: dto.overlap ?? current.overlap,
    catchup: dto.catchup ?? current.catchup,
    catchupWindowMs: dto.catchupWindow === undefined ? current.catchupWindowMs : parseDuration(dto.catchupWindow),
    jitterMs: dto.jitter === undefined ? current.jitterMs : parseDuration(dto.jitter),
    owner: dto.owner ?? current.owner,
  }, pipelines);
  const scheduleChanged = definition.cron !== current.cron || definition.everyMs !== current.everyMs
    || (definition.cron !== null && definition.timezone !== current.timezone);
  return { definition, scheduleChanged };
}

/** A job's definition as people write it (durations as text), for the audit log. */
export function describeDefinition(row: JobRow): Record<string, unknown> {
  return {
    name: row.name, pipeline: row.pipeline, cron: row.cron, every: row.everyMs === null ? null : formatDuration(row.everyMs),
    timezone: row.timezone, params: row.params, overlap: row.overlap, catchup: row.catchup,
    catchupWindow: formatDuration(row.catchupWindowMs), jitter: formatDuration(row.jitterMs), owner: row.owner,
  };
}

/** The fields whose value differs, each as `{ from, to }`. */
export function definitionChanges(before: JobRow, after: JobRow): Record<string, { from: unknown; to: unknown }> {
  const old = describeDefinition(before);
  const now = describeDefinition(after);
  const changes: Record<string, { from: unknown; to: unknown }> = {};
  for (const key of Object.keys(now)) {
    if (JSON.stringify(old[key]) !== JSON.stringify(now[key])) changes[key] = { from: old[key], to: now[key] };
  }
  return changes;
}

/** A fresh slug id: the name's slug (or `job`) and a random suffix, e.g. `nightly-report-3f9a1c2e`. */
export function generatedJobId(name: string | undefined): string {
  // Accents come off (é → e) before anything else that is not a-z or 0-9 becomes a dash.
  const plain = (name ?? '').normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
  const slug = plain.replace(/[^a-z0-9]+/g, '-').replace(/^-+/, '').slice(0, 48).replace(/-+$/, '');
  return `${slug || 'job'}-${randomBytes(4).toString('hex')}`;
}

function schedule(dto: { cron?: string; every?: string }): Pick<JobDefinition, 'cron' | 'everyMs'> {
  if (dto.cron !== undefined && dto.every !== undefined) {
    throw new InvalidInputError('cron', 'give either cron or every, not both: a job runs on one schedule');
  }
  return dto.cron !== undefined ? { cron: dto.cron.trim(), everyMs: null } : { cron: null, everyMs: parseDuration(dto.every!) };
}

function checked(definition: JobDefinition, pipelines: Map<string, PipelineConfig>): JobDefinition {
  if (!pipelines.has(definition.pipeline)) {
    const known = [...pipelines.keys()].join(', ') || 'none';
    throw new InvalidInputError('pipeline', `unknown pipeline "${definition.pipeline}"; the config defines: ${known}`);
  }
  // Any zone problem is reported against timezone, even for a cron job whose expression is fine.
  const zoneProblem = validateSchedule({ cron: null, everyMs: 60_000, timezone: definition.timezone });
  if (zoneProblem !== null) throw new InvalidInputError('timezone', zoneProblem);
  const problem = validateSchedule(definition);
  if (problem !== null) throw new InvalidInputError(definition.cron !== null ? 'cron' : 'every', problem);
  return definition;
}
