/** What Linux says about a process: memory from /proc/<pid>/status, CPU time from /proc/<pid>/stat. */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { round } from './stats.mjs';

let clockTicks = null;

/** Clock ticks per second (USER_HZ), the unit of utime/stime in /proc/<pid>/stat. */
export function ticksPerSecond() {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return clockTicks;
}

/** Resident memory now and its peak, in MiB: `{ rssMiB, hwmMiB }`; null when the process is gone. */
export function memory(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const kib = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { rssMiB: kib('VmRSS') / 1024, hwmMiB: kib('VmHWM') / 1024 };
}

/** Resets the peak-RSS counter (VmHWM) to the current RSS, so a later VmHWM is the peak of what follows. */
export function resetPeak(pid) {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** CPU seconds (user + system) the process has used so far; null when it is gone. */
export function cpuSeconds(pid) {
  const fields = statFields(pid);
  return fields && (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
}

/**
 * Minor page faults the process has taken so far; null when it is gone. Where a fault costs 10 µs
 * or more (`machine.pageFaultMicros` in a report), they can be much of a process's time.
 */
export function minorFaults(pid) {
  const fields = statFields(pid);
  return fields && Number(fields[7]);
}

/** /proc/<pid>/stat's fields from the third (state) on, so fields[i] is field i + 3 of proc(5); null when gone. */
function statFields(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) may hold spaces and parentheses: fields are counted after the last ')'.
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

/** Pids whose parent is `pid`. */
export function childPids(pid) {
  return [...processes()].filter(([, info]) => info.ppid === pid).map(([child]) => child);
}

/** The child of `pid` whose command line contains `fragment`, or null. */
export function childWith(pid, fragment) {
  return childPids(pid).find((child) => {
    try {
      return readFileSync(`/proc/${child}/cmdline`, 'utf8').includes(fragment);
    } catch {
      return false;
    }
  }) ?? null;
}

/** Samples a process's RSS every `everyMs` until stopped; `stop()` returns the highest RSS seen, in MiB. */
export function sampleRss(pid, everyMs = 50) {
  let highest = memory(pid)?.rssMiB ?? 0;
  const timer = setInterval(() => {
    const now = memory(pid)?.rssMiB;
    if (now !== undefined && now > highest) highest = now;
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return highest;
    },
  };
}

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
export function machineTicks() {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return { busy: cpu.reduce((sum, value) => sum + value, 0) - cpu[3] - cpu[4] };
}

/**
 * Starts counting the machine's CPU by process role around a daemon: the daemon, its spawner
 * processes with their children (the runs' commands, and the cronwarden-exec each spawner starts
 * them through, with its children: the commands), the database (PostgreSQL's processes or the
 * PGlite sidecar), this process (the bench's client) and the rest. `perRun(count)` splits what was
 * used since over `count` runs: milliseconds per run by role, the machine's busy milliseconds per
 * run, and the kernel's share of each role.
 */
export function cpuByRole(daemon) {
  const sidecar = daemon.sidecarPid();
  const roleOf = (pid, info, all) => {
    if (pid === daemon.pid) return 'daemon';
    if (pid === process.pid) return 'bench (client)';
    if (pid === sidecar || info.comm.startsWith('postgres')) return 'database';
    if (info.ppid === daemon.pid) return 'spawners and children';
    // A spawner's cronwarden-exec: the commands are its children, reaped by it.
    if (info.ppid !== sidecar && all.get(info.ppid)?.ppid === daemon.pid) return 'spawners and children';
    // Anything else on the machine; a process started meanwhile counts whole.
    return 'rest';
  };
  const before = processes();
  const machineBefore = machineTicks();
  return {
    perRun(count) {
      const after = processes();
      const machineAfter = machineTicks();
      const roles = {};
      const system = {};
      for (const [pid, info] of after) {
        const role = roleOf(pid, info, after);
        const was = before.get(pid);
        // Reaped children count for the spawners (the runs' commands); elsewhere they are not this
        // phase's (pid 1 reaping an orphan of an earlier run would add all of its life).
        const children = role === 'spawners and children';
        roles[role] = (roles[role] ?? 0) + info.ticks - (was?.ticks ?? 0) + (children ? info.childrenTicks - (was?.childrenTicks ?? 0) : 0);
        system[role] = (system[role] ?? 0) + info.system - (was?.system ?? 0) + (children ? info.childrenSystem - (was?.childrenSystem ?? 0) : 0);
      }
      const tick = 1000 / ticksPerSecond();
      return {
        machineBusyMsPerRun: round(((machineAfter.busy - machineBefore.busy) * tick) / count, 3),
        cpuMsPerRun: Object.fromEntries(Object.entries(roles).sort((a, b) => b[1] - a[1]).map(([role, ticks]) => [role, round((ticks * tick) / count, 3)])),
        kernelShare: Object.fromEntries(Object.entries(system).map(([role, ticks]) => [role, round(ticks / Math.max(1, roles[role]), 2)])),
      };
    },
  };
}
