/**
 * Probe: where the CPU of a triggered run goes. Starts a daemon (from `dist/`) on a fresh database,
 * triggers `--runs` /bin/true runs through the API at 8 in flight (as the throughput scenario does),
 * and splits the machine's CPU over the phase by process, from /proc: the daemon, its spawner
 * processes with their children, the database (PostgreSQL's processes, or the PGlite sidecar), this
 * probe (the HTTP client) and the rest: milliseconds per run, and the kernel's share of each. Usage:
 *   node bench/probes/trigger-cost.mjs [--db pglite|postgres] [--runs 2000] [--daemon-flags="…"]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { setDaemonNodeFlags } from '../lib/daemon.mjs';
import { withFreshDaemon } from '../lib/fresh-daemon.mjs';
import { ticksPerSecond } from '../lib/proc.mjs';
import { round } from '../lib/stats.mjs';
import { triggerAndWait } from '../lib/trigger.mjs';
import { THROUGHPUT_YAML } from '../scenarios/throughput.mjs';

const { values } = parseArgs({ options: { db: { type: 'string', default: 'pglite' }, runs: { type: 'string', default: '2000' }, 'daemon-flags': { type: 'string', default: '' } } });
setDaemonNodeFlags(values['daemon-flags'].split(' ').filter(Boolean));
const count = Number(values.runs);
const ctx = { serverUrl: process.env.DATABASE_URL ?? null, daemonFlags: [], log: () => undefined };

/** Every process now: pid → { comm, ppid, ticks, system } and the same of its reaped children (`children…`). */
function processes() {
  const all = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let text;
    try {
      text = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    const close = text.lastIndexOf(')');
    const comm = text.slice(text.indexOf('(') + 1, close);
    const fields = text.slice(close + 2).split(' ');
    // After the comm: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14).
    const [user, system, childrenUser, childrenSystem] = [11, 12, 13, 14].map((field) => Number(fields[field]));
    all.set(Number(name), { comm, ppid: Number(fields[1]), ticks: user + system, system, childrenTicks: childrenUser + childrenSystem, childrenSystem });
  }
  return all;
}

/** Busy ticks of the whole machine: all but idle and iowait. */
function machineTicks() {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return { busy: cpu.reduce((sum, value) => sum + value, 0) - cpu[3] - cpu[4] };
}

const result = await withFreshDaemon(ctx, values.db, { yaml: THROUGHPUT_YAML }, async (daemon, client) => {
  const sidecar = daemon.sidecarPid();
  const groupOf = (pid, info) => {
    if (pid === daemon.pid) return 'daemon';
    if (pid === process.pid) return 'probe (HTTP client)';
    if (pid === sidecar || info.comm.startsWith('postgres')) return 'database';
    if (info.ppid === daemon.pid) return 'spawners and children';
    // Anything else on the machine; a process started meanwhile counts whole.
    return 'rest';
  };
  const before = processes();
  const machineBefore = machineTicks();
  const measured = await triggerAndWait(client, [daemon.url], 'tp', count);
  const after = processes();
  const machineAfter = machineTicks();
  const groups = {};
  const system = {};
  for (const [pid, info] of after) {
    const group = groupOf(pid, info);
    const was = before.get(pid);
    // Reaped children count for the spawners (the runs' commands); elsewhere they are not this
    // phase's (pid 1 reaping an orphan of an earlier run would add all of its life).
    const children = group === 'spawners and children';
    groups[group] = (groups[group] ?? 0) + info.ticks - (was?.ticks ?? 0) + (children ? info.childrenTicks - (was?.childrenTicks ?? 0) : 0);
    system[group] = (system[group] ?? 0) + info.system - (was?.system ?? 0) + (children ? info.childrenSystem - (was?.childrenSystem ?? 0) : 0);
  }
  const tick = 1000 / ticksPerSecond();
  const busyMs = (machineAfter.busy - machineBefore.busy) * tick;
  const perRun = Object.fromEntries(Object.entries(groups).sort((a, b) => b[1] - a[1]).map(([group, ticks]) => [group, round((ticks * tick) / count, 3)]));
  const systemShare = Object.fromEntries(Object.entries(system).map(([group, ticks]) => [group, round(ticks / Math.max(1, groups[group]), 2)]));
  return { runsPerSecond: round(measured.perSecond), seconds: round(measured.seconds, 2), machineBusyMsPerRun: round(busyMs / count, 3), cpuMsPerRun: perRun, kernelShare: systemShare };
});
console.log(JSON.stringify({ db: values.db, runs: count, ...result }, null, 1));
