/** The `jobs:` part of the file: schedules that run a pipeline, and their policies. */
import { cronProblem, timezoneProblem } from '../scheduler/schedule.js';
import { notifyTargets } from './config.notify.js';
import { readRetries } from './config.pipelines.js';
import type { CatchupPolicy, JobConfig, OverlapPolicy, PipelineConfig } from './config.types.js';
import { boolean, duration, integer, mapping, oneOf, type Parse, Section, show, stringList, text } from './config.section.js';

const JOB_KEYS = ['name', 'pipeline', 'cron', 'every', 'timezone', 'params', 'overlap', 'catchup', 'catchupWindow', 'jitter', 'paused', 'notify', 'expectSuccessWithin', 'retries', 'onSuccess', 'onFailure', 'keepRuns', 'keepOutputFor'];
const OVERLAP_POLICIES: readonly OverlapPolicy[] = ['skip', 'queue', 'allow', 'replace'];
const CATCHUP_POLICIES: readonly CatchupPolicy[] = ['skip', 'once', 'all'];

/** Reads one job; `pipelines` are the ones defined in the same file. */
export function readJob(section: Section, id: string, pipelines: Map<string, PipelineConfig>): JobConfig {
  section.allowOnly(JOB_KEYS);
  const pipeline = section.require('pipeline', text);
  if (pipeline !== undefined && !pipelines.has(pipeline)) {
    const defined = [...pipelines.keys()].join(', ') || 'none';
    section.report('pipeline', `${show(pipeline)} is not a pipeline defined under pipelines (defined: ${defined})`);
  }
  // An unknown zone is reported here and the cron expression then checked in UTC, so one mistake is one problem.
  const timezone = section.read('timezone', 'UTC', timezoneName);
  return {
    id,
    name: section.read('name', id, text),
    pipeline: pipeline ?? '',
    ...readSchedule(section, timezone),
    timezone,
    params: section.read('params', {}, mapping),
    overlap: section.read('overlap', 'skip', oneOf(OVERLAP_POLICIES)),
    catchup: section.read('catchup', 'once', oneOf(CATCHUP_POLICIES)),
    catchupWindowMs: section.read('catchupWindow', 6 * 3_600_000, duration()),
    jitterMs: section.read('jitter', 0, duration()),
    // Only the state the job starts in when it is first created: after that its paused state lives
    // in the database (pause/resume through the API) and survives restarts, so editing this changes nothing.
    paused: section.read('paused', false, boolean),
    notify: section.read('notify', [], notifyTargets),
    expectSuccessWithinMs: section.read<number | null>('expectSuccessWithin', null, duration(1_000)),
    retries: section.isSet('retries') ? readRetries(section) : null,
    onSuccess: section.read('onSuccess', [], stringList()),
    onFailure: section.read('onFailure', [], stringList()),
    keepRuns: section.read<number | null>('keepRuns', null, integer(1, 10_000_000)),
    keepOutputForMs: section.read<number | null>('keepOutputFor', null, duration(60_000)),
  };
}

/** Exactly one of `cron` and `every`; each one present is checked either way. */
function readSchedule(section: Section, timezone: string): Pick<JobConfig, 'cron' | 'everyMs'> {
  const cron = section.read<string | null>('cron', null, cronExpression(timezone));
  const everyMs = section.read<number | null>('every', null, duration(1_000));
  const hasCron = section.isSet('cron');
  if (hasCron && section.isSet('every')) {
    section.report(null, 'has both cron and every; a job runs on one schedule, keep one of them');
  } else if (!hasCron && !section.isSet('every')) {
    section.report(null, 'needs a schedule: set cron (e.g. "0 3 * * *") or every (e.g. 5h)');
  }
  return { cron, everyMs };
}

const timezoneName: Parse<string> = (value) => {
  const problem = timezoneProblem(text(value));
  if (problem) throw new Error(problem);
  return value as string;
};

function cronExpression(timezone: string): Parse<string> {
  return (value) => {
    const problem = cronProblem(text(value).trim(), timezone);
    if (problem) throw new Error(problem);
    return (value as string).trim();
  };
}
