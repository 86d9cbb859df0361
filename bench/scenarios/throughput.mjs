/**
 * Scenario 2, run throughput: manual triggers of /bin/true at maxConcurrentRuns 8, end to end
 * (queued → succeeded, state stored), against raw spawn of /bin/true at 8 in flight from a bare
 * Node process. Measured twice on one daemon: the first batch after its start, and the next, warm
 * (the target's figure: a daemon runs for months, and a fresh one spends part of its first seconds
 * of load compiling its hot paths). On PostgreSQL, a smaller pass through a counting proxy gives the
 * database statements and round trips per run.
 */
import { rawSpawn } from '../lib/baseline.mjs';
import { configYaml, NEVER_CRON, TRUE_PIPELINE } from '../lib/config.mjs';
import { withFreshDaemon } from '../lib/fresh-daemon.mjs';
import { startCounter } from '../lib/pg-counter.mjs';
import { forEachKind } from '../lib/kinds.mjs';
import { atLeast, failedRow, row } from '../lib/report.mjs';
import { outcome, queueRuns, waitForEnded } from '../lib/runs.mjs';
import { ratio, round } from '../lib/stats.mjs';
import { triggerAndWait } from '../lib/trigger.mjs';

const CONCURRENCY = 8;
const TARGET_RATIO = { postgres: 0.5, pglite: 0.3 };
const IDLE_WINDOW_MS = { full: 5_000, smoke: 500 };

/** The config of every throughput-style daemon: one job that only runs when triggered. */
export const THROUGHPUT_YAML = configYaml({
  daemon: { maxConcurrentRuns: CONCURRENCY },
  pipelines: { true: TRUE_PIPELINE },
  jobs: { tp: { pipeline: 'true', cron: NEVER_CRON, overlap: 'allow' } },
});

export async function throughput(ctx) {
  const result = { runs: ctx.sizes.runs, concurrency: CONCURRENCY, databases: {} };
  const rows = [];
  const measuredByKind = await forEachKind(ctx, async (kind) => {
    ctx.log(`throughput: ${ctx.sizes.runs} runs on ${kind}`);
    // Warmed as the daemon is: by a batch that is not counted.
    const raw = await rawSpawn(ctx.sizes.runs, CONCURRENCY, { warmup: ctx.sizes.runs });
    const measured = await withFreshDaemon(ctx, kind, { yaml: THROUGHPUT_YAML, timeSpawns: true }, async (daemon, client) => {
      const first = await triggerAndWait(client, [daemon.url], 'tp', ctx.sizes.runs);
      return {
        ...(await triggerAndWait(client, [daemon.url], 'tp', ctx.sizes.runs)),
        firstAfterStart: { perSecond: first.perSecond, seconds: first.seconds, statuses: first.statuses },
        executorOnly: await drainQueued(client, ctx.sizes.runs),
      };
    });
    return { ...measured, rawSpawn: raw };
  });
  ctx.kinds.forEach((kind, i) => {
    const { ids, ...measured } = measuredByKind[i];
    const raw = measured.rawSpawn;
    result.databases[kind] = measured;
    if (measured.error) return void rows.push(failedRow('throughput', kind, measured.error));
    const target = TARGET_RATIO[kind];
    rows.push(row('throughput', kind, `runs/s, ${ctx.sizes.runs} × /bin/true @8`, round(measured.perSecond), '/s', {
      baseline: round(raw.perSecond),
      baselineLabel: 'raw spawn',
      ratio: ratio(measured.perSecond, raw.perSecond),
      target: atLeast(target, `≥ ${target}× raw`, 'ratio'),
      note: `warm: after ${ctx.sizes.runs} uncounted; ${JSON.stringify(measured.statuses)}`,
    }));
    const first = measured.firstAfterStart;
    rows.push(row('throughput', kind, `runs/s, the first ${ctx.sizes.runs} after start`, round(first.perSecond), '/s', {
      baseline: round(raw.perSecond), baselineLabel: 'raw spawn', ratio: ratio(first.perSecond, raw.perSecond),
      note: `cold: the daemon's code compiled meanwhile; ${JSON.stringify(first.statuses)}`,
    }));
    rows.push(row('throughput', kind, `runs/s, ${ctx.sizes.runs} queued by SQL`, round(measured.executorOnly.perSecond), '/s', {
      baseline: round(raw.perSecond), baselineLabel: 'raw spawn', ratio: ratio(measured.executorOnly.perSecond, raw.perSecond),
      note: 'the executor alone, without the API',
    }));
    // The synchronous fork+exec grows with the spawning process's memory: the daemon's (or its
    // spawner process's, which starts the runs since it exists) against a bare Node's. Since item 48
    // the spawner process has cronwarden-exec start them (posix_spawn): no spawn() call per run.
    const calls = measured.daemonSpawnCalls;
    const perRun = (calls?.calls ?? 0) >= ctx.sizes.runs;
    const spawnMs = perRun ? calls.p50Ms : null;
    const where = calls?.process === 'spawner-process.mjs' ? 'the spawner process' : 'the daemon';
    rows.push(row('throughput', kind, `spawn() call p50, in ${where}`, round(spawnMs, 2), 'ms', {
      baseline: round(raw.spawnCallP50Ms, 2), baselineLabel: 'bare node', ratio: ratio(spawnMs, raw.spawnCallP50Ms),
      note: perRun ? '' : `runs started by cronwarden-exec (posix_spawn); ${calls?.calls ?? 0} spawn() calls in the busiest process`,
    }));
  });
  if (ctx.kinds.includes('postgres')) {
    ctx.log(`throughput: statements per run (${ctx.sizes.statementRuns} runs through a counting proxy)`);
    result.statements = await countStatements(ctx);
    rows.push(row('throughput', 'postgres', 'statements per run', result.statements.perRun.statements, '', { note: 'incl. the trigger request' }));
    rows.push(row('throughput', 'postgres', 'round trips per run', result.statements.perRun.roundTrips, '', { note: 'incl. the trigger request' }));
  } else {
    result.statements = { skipped: 'counted on PostgreSQL only (set DATABASE_URL); PGlite runs the same statements' };
  }
  return { result, rows };
}

/**
 * The executor alone: `count` runs queued by one INSERT (no API, no trigger requests), drained at
 * maxConcurrentRuns. Runs/s from the first claim (the executor's poll finds them) to the last finish.
 */
async function drainQueued(client, count) {
  const ids = await queueRuns(client, 'tp', count, 'bench');
  const where = 'id = ANY($1::uuid[])';
  await waitForEnded(client, where, [ids], count, 300_000);
  const ended = await outcome(client, where, [ids]);
  const seconds = (ended.lastFinish - ended.firstStart) / 1000;
  return { runs: count, seconds: round(seconds, 2), perSecond: count / seconds, statuses: ended.statuses };
}

/** Counts statements during an idle window (the background rate) and during a batch of runs. */
async function countStatements(ctx) {
  const upstream = new URL(ctx.serverUrl);
  const counter = await startCounter(upstream.hostname || '127.0.0.1', Number(upstream.port || 5432));
  const idleMs = ctx.smoke ? IDLE_WINDOW_MS.smoke : IDLE_WINDOW_MS.full;
  try {
    return await withFreshDaemon(ctx, 'postgres', { yaml: THROUGHPUT_YAML, proxy: counter }, async (daemon, client) => {
      const idleStart = counter.snapshot();
      await new Promise((resolve) => setTimeout(resolve, idleMs));
      const idleEnd = counter.snapshot();
      const measured = await triggerAndWait(client, [daemon.url], 'tp', ctx.sizes.statementRuns);
      const busyEnd = counter.snapshot();
      const runs = ctx.sizes.statementRuns;
      const perRun = (field) => round((busyEnd[field] - idleEnd[field]) / runs, 2);
      return {
        pgStatStatements: 'not preloaded on the server here; counted by a protocol-reading proxy (bench/lib/pg-counter.mjs)',
        runs,
        seconds: round(measured.seconds, 2),
        perRun: { statements: perRun('statements'), roundTrips: perRun('roundTrips') },
        idlePerSecond: { statements: round((idleEnd.statements - idleStart.statements) / (idleMs / 1000), 2) },
        byStatementPerRun: perStatement(idleEnd.byStatement, busyEnd.byStatement, runs),
      };
    });
  } finally {
    await counter.close();
  }
}

function perStatement(before, after, runs) {
  return Object.fromEntries(
    Object.entries(after)
      .map(([sql, n]) => [sql, round((n - (before[sql] ?? 0)) / runs, 2)])
      .filter(([, n]) => n >= 0.01)
      .sort((a, b) => b[1] - a[1]),
  );
}
