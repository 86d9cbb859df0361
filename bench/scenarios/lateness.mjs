/**
 * Scenario 1, fire lateness: 1, 1,000 and 10,000 jobs due in the same second (6-field cron). Per
 * run, (recorded as due − instant) = queued_at − scheduled_for and (claimed to start − instant) =
 * started_at − scheduled_for. Baselines: croner's own callback lateness for as many jobs in a bare
 * Node process, and raw spawn of as many children at the same concurrency (the last child's floor).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { rawSpawn, runBaseline } from '../lib/baseline.mjs';
import { configYaml, cronAt, TRUE_PIPELINE } from '../lib/config.mjs';
import { withFreshDaemon } from '../lib/fresh-daemon.mjs';
import { forEachKind } from '../lib/kinds.mjs';
import { atLeast, describeError, failedRow, lessOrEqual, row } from '../lib/report.mjs';
import { countRuns, lateness as readLateness, waitForEnded } from '../lib/runs.mjs';
import { ratio, round, summary } from '../lib/stats.mjs';

const CONCURRENCY = 8;
/** How long before the instant the runs already recorded for it are counted. */
const STAGED_CHECK_MS = 200;
const RAW_SPAWN_MAX = 2000;

/** Runs the scenario on every database kind; returns `{ result, rows }`. */
export async function lateness(ctx) {
  // A full run measures croner alone first; a smoke run (no figures judged) overlaps it with the daemons.
  const baselines = cronerBaselines(ctx);
  baselines.catch(() => undefined); // awaited below; this only keeps an early failure from being "unhandled"
  if (!ctx.smoke) await baselines;
  const perKind = await forEachKind(ctx, async (kind) => {
    const byDb = {};
    // Start time grows with the number of config jobs; learn it from each size to plan the next instant.
    const plan = { baseMs: 5_000, perJobMs: 3 };
    for (const size of ctx.sizes.latenessJobs) {
      ctx.log(`lateness: ${size} job(s) on ${kind}`);
      try {
        // The raw-spawn floor is measured next to the figure it bounds; the machine's load drifts.
        const raw = size === 1 ? null : await rawSpawnFloor(size);
        const measured = size === 1 ? await singleJob(ctx, kind) : { ...(await manyJobs(ctx, kind, size, plan)), rawSpawn: raw };
        if (size === 1) plan.baseMs = measured.setupMs;
        byDb[size] = measured;
      } catch (error) {
        // One size failing keeps the figures of the others.
        ctx.failed = true;
        ctx.log(`lateness: ${size} job(s) on ${kind} failed: ${describeError(error)}`);
        byDb[size] = { error: error.message };
      }
    }
    return byDb;
  });
  const result = { concurrency: CONCURRENCY, baselines: await baselines, databases: {} };
  const rows = [];
  ctx.kinds.forEach((kind, i) => {
    result.databases[kind] = perKind[i];
    if (perKind[i].error) return void rows.push(failedRow('lateness', kind, perKind[i].error));
    for (const size of ctx.sizes.latenessJobs) rows.push(...rowsFor(kind, size, perKind[i][size], result.baselines[size]));
  });
  return { result, rows };
}

/** Raw spawns are linear in their count: above RAW_SPAWN_MAX the floor is extrapolated, to save the minute 10,000 would take. */
async function rawSpawnFloor(size) {
  const measured = await rawSpawn(Math.min(size, RAW_SPAWN_MAX), CONCURRENCY);
  if (size <= RAW_SPAWN_MAX) return measured;
  const factor = size / measured.count;
  return { ...measured, extrapolatedFrom: measured.count, count: size, totalMs: measured.totalMs * factor, lastStartMs: measured.lastStartMs * factor };
}

/** croner's callback lateness for each size, one bare Node process after the other. */
async function cronerBaselines(ctx) {
  const baselines = {};
  for (const size of ctx.sizes.latenessJobs) {
    const croner = await runBaseline('croner-lateness.mjs', size === 1 ? ['--jobs', 1, '--instants', ctx.sizes.singleJobInstants] : ['--jobs', size]);
    baselines[size] = { croner: { ...summary(croner.lateMs), setupMs: round(croner.setupMs), heapMiB: round(croner.heapMiB) } };
  }
  return baselines;
}

/** One per-second job: several instants, so that p99 means something. */
async function singleJob(ctx, kind) {
  const instants = ctx.sizes.singleJobInstants;
  const yaml = configYaml({
    daemon: { maxConcurrentRuns: CONCURRENCY },
    pipelines: { true: TRUE_PIPELINE },
    jobs: { late_1: { pipeline: 'true', cron: '* * * * * *', overlap: 'skip', catchup: 'skip' } },
  });
  return withFreshDaemon(ctx, kind, { yaml }, async (daemon, client) => {
    // The first instants after start meet a cold process: skip one (two in a full run).
    const from = new Date(Math.ceil(Date.now() / 1000) * 1000 + (ctx.smoke ? 1_000 : 2_000));
    const until = new Date(from.getTime() + (instants - 1) * 1000);
    const where = `job_id = 'late_1' AND trigger = 'schedule' AND scheduled_for BETWEEN $1 AND $2`;
    await sleep(until.getTime() - Date.now());
    await waitForEnded(client, where, [from, until], instants, 30_000);
    return { readyMs: round(daemon.readyMs), setupMs: round(daemon.setupMs), ...digest(await readLateness(client, where, [from, until])) };
  });
}

/** `size` jobs due at one planned second; the plan leaves room for the daemon to start first. */
async function manyJobs(ctx, kind, size, plan) {
  for (let attempt = 1; ; attempt++) {
    const expectedStartMs = plan.baseMs + plan.perJobMs * size;
    const instant = Math.ceil((Date.now() + expectedStartMs * 1.3 * attempt + 1_500) / 1000) * 1000;
    const jobs = Array.from({ length: size }, (_, i) => [
      `late_${String(i + 1).padStart(5, '0')}`,
      { pipeline: 'true', cron: cronAt(instant), overlap: 'skip', catchup: 'skip' },
    ]);
    const yaml = configYaml({ daemon: { maxConcurrentRuns: CONCURRENCY }, pipelines: { true: TRUE_PIPELINE }, jobs });
    const measured = await withFreshDaemon(ctx, kind, { yaml }, async (daemon, client) => {
      // At least 1 ms a job: a small size's start time is mostly noise, and an underestimate costs a restart.
      plan.perJobMs = Math.max(1, (daemon.setupMs - plan.baseMs) / size);
      if (Date.now() > instant - 500) return null;
      const at = new Date(instant);
      // An instant fired past the misfire grace becomes a catch-up (here: skipped) run: count those too.
      const where = `trigger IN ('schedule', 'catchup') AND scheduled_for = $1`;
      // Staged runs are recorded before their instant with queued_at = the instant: count them ahead, so the table shows it.
      await sleep(instant - Date.now() - STAGED_CHECK_MS);
      const staged = await countRuns(client, where, [at]);
      await sleep(instant - Date.now() + 100);
      await waitForEnded(client, where, [at], size, 120_000 + size * 20, 250);
      return { readyMs: round(daemon.readyMs), setupMs: round(daemon.setupMs), recordedAhead: staged, ...digest(await readLateness(client, where, [at])) };
    });
    if (measured) return measured;
    if (attempt === 2) throw new Error(`the daemon with ${size} jobs started after the planned instant twice`);
    ctx.log(`lateness: the daemon with ${size} jobs took longer to start than planned; again with more room`);
  }
}

function digest(measured) {
  return { due: summary(measured.dueMs), start: summary(measured.startMs), statuses: measured.statuses };
}

function rowsFor(kind, size, measured, baselines) {
  const label = size === 1 ? '1 job' : `${size.toLocaleString('en-US')} jobs`;
  if (measured.error) return [failedRow('lateness', kind, `${label}: ${measured.error}`)];
  const croner = baselines.croner.p99;
  const dueTarget = size === 1000 ? lessOrEqual(20, '≤ 20 ms') : size === 10_000 ? lessOrEqual(100, '≤ 100 ms') : undefined;
  const rows = [
    row('lateness', kind, `due p99, ${label}`, measured.due.p99, 'ms', {
      baseline: croner, baselineLabel: 'croner', ratio: ratio(measured.due.p99, croner), target: dueTarget,
      note: measured.recordedAhead === undefined ? null : `${measured.recordedAhead} of ${size} recorded ${STAGED_CHECK_MS} ms before the instant`,
    }),
  ];
  if (size === 1) {
    rows.push(row('lateness', kind, 'child start p99, 1 job', measured.start.p99, 'ms', {
      baseline: croner, baselineLabel: 'croner', target: lessOrEqual(20, '≤ 20 ms'),
      note: `of ${measured.start.n} instants, largest ${measured.start.max} ms (croner's ${baselines.croner.max} ms)`,
    }));
  } else {
    const floor = round(measured.rawSpawn.lastStartMs);
    rows.push(row('lateness', kind, `last child start, ${label}`, measured.start.max, 'ms', {
      baseline: floor,
      baselineLabel: measured.rawSpawn.extrapolatedFrom ? 'raw spawn, extrapolated' : 'raw spawn',
      ratio: ratio(measured.start.max, floor),
      target: size === 1000 ? lessOrEqual(1.5, '≤ 1.5× raw', 'ratio') : undefined,
      note: measured.start.n < size ? `of the ${measured.start.n} runs that started; the others were fired too late and skipped` : null,
    }));
  }
  // Every instant should have become a succeeded run; say so in the table when some did not.
  const expected = size === 1 ? measured.due.n : size;
  const succeeded = measured.statuses.succeeded ?? 0;
  if (succeeded !== expected || measured.due.n !== expected) {
    rows.push(row('lateness', kind, `runs succeeded, ${label}`, succeeded, '', { note: JSON.stringify(measured.statuses), target: atLeast(expected, `${expected}`) }));
  }
  return rows;
}
