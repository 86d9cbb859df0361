/** What Linux says about a process: memory from /proc/<pid>/status, CPU time from /proc/<pid>/stat. */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';

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
  let text;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) may hold spaces and parentheses: fields are counted after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
}

/** Pids whose parent is `pid`. */
export function childPids(pid) {
  const children = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const text = readFileSync(`/proc/${name}/stat`, 'utf8');
      const parent = Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent === pid) children.push(Number(name));
    } catch {
      // Gone while we looked.
    }
  }
  return children;
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
