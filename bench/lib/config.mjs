/** Generated daemon config files. YAML accepts JSON flow mappings, so each entry is one JSON line. */

/** A job that never fires during a bench run (1 January 00:00): it is there to be triggered. */
export const NEVER_CRON = '0 0 1 1 *';

/**
 * The YAML text for `daemon` settings, `pipelines` ({ id: { command, maxOutputBytes?, … } }) and
 * `jobs` ({ id: { pipeline, cron | every, … } } or an array of [id, job] pairs for large sets).
 */
export function configYaml({ daemon = {}, pipelines, jobs }) {
  const lines = ['daemon:'];
  for (const [key, value] of Object.entries({ shutdownGrace: '5s', ...daemon })) lines.push(`  ${key}: ${JSON.stringify(value)}`);
  lines.push('pipelines:');
  for (const [id, pipeline] of Object.entries(pipelines)) lines.push(`  ${id}: ${JSON.stringify(pipeline)}`);
  lines.push('jobs:');
  const entries = Array.isArray(jobs) ? jobs : Object.entries(jobs);
  for (const [id, job] of entries) lines.push(`  ${id}: ${JSON.stringify(job)}`);
  if (entries.length === 0) lines[lines.length - 1] = 'jobs: {}';
  return `${lines.join('\n')}\n`;
}

/** The pipeline every throughput-style scenario runs: `/bin/true`, nothing else. */
export const TRUE_PIPELINE = { command: ['/bin/true'], timeout: '1m', killGrace: '1s' };

/** A 6-field cron expression that matches only the UTC second `instant` (once a day). */
export function cronAt(instant) {
  const d = new Date(instant);
  return `${d.getUTCSeconds()} ${d.getUTCMinutes()} ${d.getUTCHours()} * * *`;
}

/**
 * The schedule of job number `i` (from 1) in the scale scenario: weekly, at one of 7,200 distinct
 * (minute, hour, weekday) combinations, on a weekday two to six days after `now` (UTC), so none
 * fires during a bench run. `SCALE_CRON_SQL` is the same expression in SQL over `i` and `now()`.
 */
export function scaleCron(i, now = new Date()) {
  return `${i % 60} ${Math.floor(i / 60) % 24} * * ${(now.getUTCDay() + 2 + (Math.floor(i / 1440) % 5)) % 7}`;
}

export const SCALE_CRON_SQL = `(i % 60) || ' ' || ((i / 60) % 24) || ' * * '
  || ((extract(dow FROM now() AT TIME ZONE 'UTC')::int + 2 + (i / 1440) % 5) % 7)`;
