import { readFileSync } from 'node:fs';

/**
 * A process's identity beyond its pid: `<boot id>:<start time>` from Linux's /proc. Pids are
 * reused, so a node that finds an orphaned run after a crash kills its process group only when
 * the process with that pid is still the one the run started. Null where /proc cannot tell
 * (another OS, the process gone): then nothing is ever killed on the pid's word alone.
 */
export function processStartToken(pid: number): string | null {
  const boot = bootId();
  const started = startTicks(pid);
  return boot && started ? `${boot}:${started}` : null;
}

let thisBoot: string | null | undefined;

/** The kernel's id for this boot (read once: it cannot change under a running process); processes of an earlier boot can no longer exist. */
export function bootId(): string | null {
  if (thisBoot !== undefined) return thisBoot;
  try {
    thisBoot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
  } catch {
    thisBoot = null;
  }
  return thisBoot;
}

/** Whether `pid` is still the process that `token` was taken from (a zombie not yet reaped still is: its pid is not free). */
export function isSameProcess(pid: number, token: string | null): boolean {
  if (!token || !Number.isInteger(pid) || pid <= 1) return false;
  return processStartToken(pid) === token;
}

/**
 * Whether `pid` is a running process. A process that has exited answers kill(pid, 0) until its
 * parent reaps it (an init may reap late); Linux shows it as state Z, and it counts as ended.
 * EPERM: it runs, but is not ours.
 */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  const state = statFields(pid)?.[0];
  return state !== 'Z' && state !== 'X';
}

/** Field 22 (starttime) of /proc/<pid>/stat. */
function startTicks(pid: number): string | null {
  // The fields start at field 3, so field 22 is index 19.
  return statFields(pid)?.[19] || null;
}

/** The fields of /proc/<pid>/stat after the command name (which may hold spaces and ')'), from field 3 (state) on; null when unreadable. */
function statFields(pid: number): string[] | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}
