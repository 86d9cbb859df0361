/**
 * Probe: the daemon's garbage-collection pauses against its instants. One per-second job for `--secs`
 * seconds from start, the daemon under `--trace-gc`: prints each instant claimed more than `--late`
 * ms after it, every full collection of the daemon (and any other pause over 5 ms) with where it
 * fell in its second, and the claim lateness p50/p99/max. The daemon runs with the shipped node flags
 * (src/common/node-flags.ts); `--daemon-flags=--memory-reducer` turns V8's memory reducer back on
 * to compare. Usage:
 *   node bench/probes/gc-pauses.mjs [--db pglite|postgres] [--secs 60] [--late 8] [--daemon-flags="…"]
 */
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { configYaml, TRUE_PIPELINE } from '../lib/config.mjs';
import { setDaemonNodeFlags } from '../lib/daemon.mjs';
import { withFreshDaemon } from '../lib/fresh-daemon.mjs';
import { summary } from '../lib/stats.mjs';

const { values } = parseArgs({
  options: { db: { type: 'string', default: 'pglite' }, secs: { type: 'string', default: '60' }, late: { type: 'string', default: '8' }, 'daemon-flags': { type: 'string', default: '' } },
});
// --trace-gc stamps each collection, at its end, in ms since the process's start: the preload says when that was.
const ORIGIN = `data:text/javascript,process.stderr.write('gc-pauses origin '+performance.timeOrigin+'\\n')`;
setDaemonNodeFlags(['--trace-gc', '--import', ORIGIN, ...values['daemon-flags'].split(' ').filter(Boolean)]);
const ctx = { serverUrl: process.env.DATABASE_URL ?? null, daemonFlags: [], log: () => undefined };
const yaml = configYaml({
  daemon: { maxConcurrentRuns: 8 },
  pipelines: { true: TRUE_PIPELINE },
  jobs: { every_second: { pipeline: 'true', cron: '* * * * * *', overlap: 'skip', catchup: 'skip' } },
});

const { instants, log, readyMs } = await withFreshDaemon(ctx, values.db, { yaml }, async (daemon, client) => {
  await sleep(Number(values.secs) * 1000 - daemon.readyMs);
  const { rows } = await client.query(
    `SELECT extract(epoch FROM scheduled_for) * 1000 AS at, extract(epoch FROM started_at - scheduled_for) * 1000 AS late
     FROM cw_runs WHERE job_id = 'every_second' AND started_at IS NOT NULL ORDER BY scheduled_for`,
  );
  return { instants: rows.map((row) => ({ at: Number(row.at), late: Number(row.late) })), log: await readFile(daemon.logFile, 'utf8'), readyMs: daemon.readyMs };
});

const lines = log.split('\n');
const origin = Number(lines.find((line) => line.startsWith('gc-pauses origin '))?.split(' ')[2]);
// The daemon's isolate prints first; its spawner processes and sidecar print under their own pids.
const daemonPid = /^\[(\d+):/.exec(lines.find((line) => / ms: /.test(line)) ?? '')?.[1];
const pauses = lines
  .filter((line) => line.startsWith(`[${daemonPid}:`))
  .map((line) => ({ line, head: /\s([\d.]+) ms: (\S+(?: \(reduce\))?) .*?MB, ([\d.]+) \//.exec(line) }))
  .filter(({ head }) => head)
  .map(({ line, head: [, at, kind, ms] }) => ({
    endsAt: origin + Number(at),
    kind,
    ms: Number(ms),
    biggestStep: Number(/biggest step ([\d.]+) ms/.exec(line)?.[1] ?? 0),
    why: /current mu = [\d.]+\) ([^;]*)/.exec(line)?.[1] ?? '',
  }));
// Instants before ready (and the first second after) meet a process still starting, as in the bench.
const measured = instants.filter((instant) => instant.at >= origin + readyMs + 1000);

const fmt = (ms) => `+${((ms - origin) / 1000).toFixed(2)} s`;
console.log(`${values.db}, ${measured.length} instants from 1 s after ready, daemon flags: ${values['daemon-flags'] || '(shipped only)'}`);
for (const instant of measured.filter((i) => i.late > Number(values.late))) {
  const near = pauses.filter((p) => p.endsAt >= instant.at - 200 && p.endsAt - p.ms <= instant.at + instant.late);
  console.log(`  instant ${fmt(instant.at)} claimed ${instant.late.toFixed(1)} ms late${near.length ? `; pauses around it: ${near.map((p) => `${p.kind} ${p.ms} ms`).join(', ')}` : ''}`);
}
for (const pause of pauses.filter((p) => p.kind.startsWith('Mark') || p.ms > 5)) {
  const second = ((((pause.endsAt - pause.ms) % 1000) + 1000) % 1000).toFixed(0);
  console.log(`  ${pause.kind} ${pause.ms} ms${pause.biggestStep ? ` (incremental steps up to ${pause.biggestStep} ms)` : ''} at ${fmt(pause.endsAt - pause.ms)}, ${second} ms into its second: ${pause.why}`);
}
const late = summary(measured.map((i) => i.late));
console.log(`  claim lateness p50 ${late.p50} ms, p99 ${late.p99} ms, max ${late.max} ms; ${pauses.filter((p) => p.kind.startsWith('Mark')).length} full collections, ${pauses.filter((p) => p.kind === 'Scavenge').length} scavenges`);
