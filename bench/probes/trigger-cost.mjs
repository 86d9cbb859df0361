/**
 * Probe: where the CPU of a triggered run goes. Starts a daemon (from `dist/`) on a fresh database,
 * triggers `--runs` /bin/true runs through the API at 8 in flight (as the throughput scenario does),
 * and splits the machine's CPU over the phase by process, from /proc: the daemon, its spawner
 * processes with their children, the database (PostgreSQL's processes, or the PGlite sidecar), this
 * probe (the HTTP client) and the rest: milliseconds per run, and the kernel's share of each. The
 * `--warmup` runs triggered before are not counted, as in the throughput scenario. Usage:
 *   node bench/probes/trigger-cost.mjs [--db pglite|postgres] [--runs 2000] [--warmup 2000] [--daemon-flags="…"]
 */
import { parseArgs } from 'node:util';
import { setDaemonNodeFlags } from '../lib/daemon.mjs';
import { withFreshDaemon } from '../lib/fresh-daemon.mjs';
import { cpuByRole } from '../lib/proc.mjs';
import { round } from '../lib/stats.mjs';
import { triggerAndWait } from '../lib/trigger.mjs';
import { THROUGHPUT_YAML } from '../scenarios/throughput.mjs';

const { values } = parseArgs({ options: { db: { type: 'string', default: 'pglite' }, runs: { type: 'string', default: '2000' }, warmup: { type: 'string', default: '2000' }, 'daemon-flags': { type: 'string', default: '' } } });
setDaemonNodeFlags(values['daemon-flags'].split(' ').filter(Boolean));
const count = Number(values.runs);
const ctx = { serverUrl: process.env.DATABASE_URL ?? null, daemonFlags: [], log: () => undefined };

const result = await withFreshDaemon(ctx, values.db, { yaml: THROUGHPUT_YAML }, async (daemon, client) => {
  // Runs triggered first and not counted: the daemon's code is compiled by then (a fresh daemon's first
  // seconds of load go partly to V8 compiling its hot paths).
  if (Number(values.warmup) > 0) await triggerAndWait(client, [daemon.url], 'tp', Number(values.warmup));
  const cpu = cpuByRole(daemon);
  const measured = await triggerAndWait(client, [daemon.url], 'tp', count);
  return { runsPerSecond: round(measured.perSecond), seconds: round(measured.seconds, 2), ...cpu.perRun(count) };
});
console.log(JSON.stringify({ db: values.db, runs: count, ...result }, null, 1));
