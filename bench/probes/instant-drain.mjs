/**
 * Probe: what happens around the instant at which `--jobs` jobs are due at once (the lateness
 * scenario's 1,000): the child starts and finishes of their runs per 100 ms after the instant, and
 * the machine's CPU by process over the drain (from the instant to the last run's end). With
 * `--warm N`, N runs of another job are queued by SQL once the daemon is ready and drained before the
 * instant (the daemon and the database then have their hot paths compiled). Usage:
 *   node bench/probes/instant-drain.mjs [--db pglite|postgres] [--jobs 1000] [--warm 0] [--daemon-flags="…"]
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { configYaml, cronAt, NEVER_CRON, TRUE_PIPELINE } from '../lib/config.mjs';
import { setDaemonNodeFlags } from '../lib/daemon.mjs';
import { withFreshDaemon } from '../lib/fresh-daemon.mjs';
import { cpuByRole } from '../lib/proc.mjs';
import { queueRuns, waitForEnded } from '../lib/runs.mjs';
import { summary } from '../lib/stats.mjs';

const { values } = parseArgs({ options: { db: { type: 'string', default: 'pglite' }, jobs: { type: 'string', default: '1000' }, warm: { type: 'string', default: '0' }, 'daemon-flags': { type: 'string', default: '' } } });
setDaemonNodeFlags(values['daemon-flags'].split(' ').filter(Boolean));
const size = Number(values.jobs);
const warm = Number(values.warm);
const ctx = { serverUrl: process.env.DATABASE_URL ?? null, daemonFlags: [], log: () => undefined };
// Room for the daemon to start: about 5 s and 3 ms a job.
const instant = Math.ceil((Date.now() + 8_000 + 4 * size + 5 * warm) / 1000) * 1000;
const jobs = Array.from({ length: size }, (_, i) => [`late_${String(i + 1).padStart(5, '0')}`, { pipeline: 'true', cron: cronAt(instant), overlap: 'skip', catchup: 'skip' }]);
jobs.push(['warm', { pipeline: 'true', cron: NEVER_CRON }]);
const yaml = configYaml({ daemon: { maxConcurrentRuns: 8 }, pipelines: { true: TRUE_PIPELINE }, jobs });

const result = await withFreshDaemon(ctx, values.db, { yaml }, async (daemon, client) => {
  if (warm > 0) {
    const ids = await queueRuns(client, 'warm', warm, 'probe');
    await waitForEnded(client, 'id = ANY($1::uuid[])', [ids], warm, 120_000, 50);
  }
  if (Date.now() > instant - 500) throw new Error('the daemon started (and warmed) after the planned instant');
  await sleep(instant - Date.now() - 50);
  const cpu = cpuByRole(daemon);
  const at = new Date(instant);
  const where = `trigger IN ('schedule', 'catchup') AND scheduled_for = $1`;
  await waitForEnded(client, where, [at], size, 120_000, 50);
  const used = cpu.perRun(size);
  const { rows } = await client.query(
    `SELECT extract(epoch FROM started_at - scheduled_for) * 1000 AS start_ms, extract(epoch FROM finished_at - scheduled_for) * 1000 AS end_ms FROM cw_runs WHERE ${where}`,
    [at],
  );
  const bins = {};
  for (const { start_ms, end_ms } of rows) {
    const s = Math.floor(Number(start_ms) / 100) * 100;
    const e = Math.floor(Number(end_ms) / 100) * 100;
    (bins[s] ??= { started: 0, ended: 0 }).started++;
    (bins[e] ??= { started: 0, ended: 0 }).ended++;
  }
  const timeline = Object.entries(bins).sort((a, b) => Number(a[0]) - Number(b[0])).map(([ms, c]) => `${ms}:${c.started}/${c.ended}`).join(' ');
  return { lastStartMs: summary(rows.map((r) => Number(r.start_ms))).max, timeline, ...used };
});
console.log(JSON.stringify({ db: values.db, jobs: size, ...result }));
