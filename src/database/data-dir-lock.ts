import { randomUUID } from 'node:crypto';
import { link, mkdir, readFile, readlink, rename, rmdir, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isRunning } from '../executor/process-identity.js';

/** What the lock file says about the process holding the data directory. */
export interface LockHolder {
  pid: number;
  sidecarPid?: number;
  /** Host name and pid namespace: a pid means something only where it was taken. */
  host: string;
  startedAt: string;
}

export const LOCK_FILE_NAME = 'cronwarden.lock';
const HEARTBEAT_MS = 5_000;
// A holder on another host (or container) cannot be asked whether it lives: its heartbeat must stop.
const FOREIGN_STALE_MS = 3 * HEARTBEAT_MS;
// Long enough for an orphaned sidecar to close PGlite, or for a foreign lock to go stale.
const WAIT_MS = FOREIGN_STALE_MS + HEARTBEAT_MS;
const TAKEOVER_STALE_MS = 10_000;
const HELD_GRACE_MS = 1_000;
const heldHere = new Set<string>();

/**
 * An exclusive lock on a data directory: the file `cronwarden.lock` holding the owner's pid. A lock whose
 * daemon and sidecar are both dead (kill -9, power loss) is stale and taken over at once.
 */
export class DataDirLock {
  private readonly heartbeat: NodeJS.Timeout;

  private constructor(readonly path: string, private content: string) {
    heldHere.add(path);
    const touch = () => utimes(path, new Date(), new Date()).catch(() => undefined);
    this.heartbeat = setInterval(touch, HEARTBEAT_MS).unref();
  }

  /**
   * Takes the lock on `dataDir` (which must exist). Waits a little for an orphaned sidecar or a foreign
   * lock to go away; throws when another live cronwarden process holds the directory.
   */
  static async acquire(dataDir: string): Promise<DataDirLock> {
    const path = join(dataDir, LOCK_FILE_NAME);
    const own: LockHolder = { pid: process.pid, host: await hostIdentity(), startedAt: new Date().toISOString() };
    const content = JSON.stringify(own);
    const deadline = Date.now() + WAIT_MS;
    // A holder killed with -9 a moment ago may take a few milliseconds to die: give it a second.
    const heldDeadline = Date.now() + HELD_GRACE_MS;
    for (;;) {
      if (await publish(path, content)) return new DataDirLock(path, content);
      const current = await readLock(path);
      if (!current) continue;
      const verdict = heldHere.has(path) ? 'held' : await judge(current.holder, path, own.host);
      if (verdict === 'stale') await removeIfUnchanged(path, current.raw);
      else if ((verdict === 'held' && (heldHere.has(path) || Date.now() > heldDeadline)) || Date.now() > deadline) {
        throw inUse(dataDir, path, current.holder, own.host);
      }
      await sleep(verdict === 'stale' ? 10 : verdict === 'held' ? 50 : 200);
    }
  }

  /** Records the sidecar's pid, so the lock stays held while an orphaned sidecar still closes the data. */
  async recordSidecar(pid: number): Promise<void> {
    const holder = { ...(JSON.parse(this.content) as LockHolder), sidecarPid: pid };
    const content = JSON.stringify(holder);
    const tmp = temporaryName(this.path);
    await writeFile(tmp, content);
    await rename(tmp, this.path);
    this.content = content;
  }

  /** Removes the lock file if it is still this one. */
  async release(): Promise<void> {
    clearInterval(this.heartbeat);
    heldHere.delete(this.path);
    await removeIfUnchanged(this.path, this.content);
  }
}

/** Creates the lock file with its full content at once: link() fails if the file exists. */
async function publish(path: string, content: string): Promise<boolean> {
  const tmp = temporaryName(path);
  await writeFile(tmp, content);
  try {
    await link(tmp, path);
    return true;
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

async function readLock(path: string): Promise<{ raw: string; holder: LockHolder | null } | null> {
  try {
    const raw = await readFile(path, 'utf8');
    return { raw, holder: parseHolder(raw) };
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return null;
    throw error;
  }
}

function parseHolder(raw: string): LockHolder | null {
  try {
    const value = JSON.parse(raw) as Partial<LockHolder>;
    return typeof value.pid === 'number' && typeof value.host === 'string' ? (value as LockHolder) : null;
  } catch {
    return null;
  }
}

async function judge(holder: LockHolder | null, path: string, host: string): Promise<'held' | 'wait' | 'stale'> {
  if (!holder) return 'stale';
  if (holder.host !== host) {
    const age = Date.now() - (await stat(path)).mtimeMs;
    return age > FOREIGN_STALE_MS ? 'stale' : 'wait';
  }
  // Our own pid in a lock we do not hold is a recycled pid (a restarted container is pid 1 again).
  if (holder.pid !== process.pid && isRunning(holder.pid)) return 'held';
  return holder.sidecarPid !== undefined && isRunning(holder.sidecarPid) ? 'wait' : 'stale';
}

/** Deletes the lock file only if it still has `expected` content, one process at a time. */
async function removeIfUnchanged(path: string, expected: string): Promise<void> {
  // Without this mutex two starters could both judge one stale lock, and the slower would delete the new one.
  const mutex = `${path}.takeover`;
  try {
    await mkdir(mutex);
  } catch (error) {
    if (errorCode(error) !== 'EEXIST') throw error;
    const age = Date.now() - (await stat(mutex).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
    if (age > TAKEOVER_STALE_MS) await rmdir(mutex).catch(() => undefined);
    return;
  }
  try {
    const current = await readFile(path, 'utf8').catch(() => null);
    if (current === expected) await unlink(path).catch(ignoreMissing);
  } finally {
    await rmdir(mutex).catch(() => undefined);
  }
}

function inUse(dataDir: string, path: string, holder: LockHolder | null, ownHost: string): Error {
  const who = holder
    ? [
        `pid ${holder.pid}`,
        holder.sidecarPid ? `sidecar pid ${holder.sidecarPid}` : '',
        holder.host !== ownHost ? `on ${holder.host}` : '',
        `since ${holder.startedAt}`,
      ]
        .filter(Boolean)
        .join(', ')
    : 'unreadable lock file';
  return new Error(
    `The data directory ${dataDir} is in use by another cronwarden process (${who}). ` +
      `Stop that process, or delete ${path} if you are sure none is running.`,
  );
}

async function hostIdentity(): Promise<string> {
  const pidNamespace = await readlink('/proc/self/ns/pid').catch(() => '');
  return pidNamespace ? `${hostname()} ${pidNamespace}` : hostname();
}

function temporaryName(path: string): string {
  return `${path}.${process.pid}.${randomUUID()}.tmp`;
}

function ignoreMissing(error: unknown): void {
  if (errorCode(error) !== 'ENOENT') throw error;
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}
