/**
 * Probe: where a run's time goes when the executor drains a queue. Queues `--runs` /bin/true runs
 * by SQL on a fresh daemon and prints, per run, claim → child start → process end (from the
 * stored times), how many processes were live on average, and the machine's CPU per run by process
 * (the daemon, its spawners with their children, the database). Usage:
 *   node bench/probes/run-timeline.mjs [--db pglite|postgres] [--runs 2000] [--daemon-flags="--cpu-prof …"]
 */
import { parseArgs } from 'node:util';
import { configYaml, NEVER_CRON, TRUE_PIPELINE } from '../lib/config.mjs';
import { setDaemonNodeFlags } from '../lib/daemon.mjs';
import { withFreshDaemon } from '../lib/fresh-daemon.mjs';
import { cpuByRole } from '../lib/proc.mjs';
import { queueRuns, waitForEnded } from '../lib/runs.mjs';
import { summary } from '../lib/stats.mjs';

const { values } = parseArgs({ options: { db: { type: 'string', default: 'pglite' }, runs: { type: 'string', default: '2000' }, 'daemon-flags': { type: 'string', default: '' } } });
setDaemonNodeFlags(values['daemon-flags'].split(' ').filter(Boolean));
const count = Number(values.runs);
const yaml = configYaml({ daemon: { maxConcurrentRuns: 8 }, pipelines: { true: TRUE_PIPELINE }, jobs: { tp: { pipeline: 'true', cron: NEVER_CRON } } });
const ctx = { serverUrl: process.env.DATABASE_URL ?? null, daemonFlags: [], log: () => undefined };

let cpu;
const result = await withFreshDaemon(ctx, values.db, { yaml }, async (daemon, client) => {
  const counting = cpuByRole(daemon);
  const ids = await queueRuns(client, 'tp', count, 'probe');
  await waitForEnded(client, 'id = ANY($1::uuid[])', [ids], count, 300_000);
  cpu = counting.perRun(count);
  const { rows: runs } = await client.query(
    `SELECT extract(epoch FROM started_at) * 1000 AS claimed, extract(epoch FROM finished_at) * 1000 AS ended, duration_ms
     FROM cw_runs WHERE triggered_by = 'probe' ORDER BY started_at`,
  );
  return runs.map((run) => ({ claimed: Number(run.claimed), ended: Number(run.ended), duration: Number(run.duration_ms) }));
});
const first = result[0].claimed;
const last = summary(result.map((run) => run.ended)).max;
const live = result.reduce((sum, run) => sum + (run.ended - run.claimed), 0) / (last - first);
console.log(JSON.stringify({
  db: values.db,
  runsPerSecond: Math.round((count / (last - first)) * 1000),
  claimToEndMs: summary(result.map((run) => run.ended - run.claimed)),
  childMs: summary(result.map((run) => run.duration)),
  claimToChildStartMs: summary(result.map((run) => run.ended - run.duration - run.claimed)),
  averageClaimedAndNotEnded: Math.round(live * 10) / 10,
  ...cpu,
}, null, 1));
