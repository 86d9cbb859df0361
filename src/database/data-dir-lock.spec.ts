import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataDirLock, LOCK_FILE_NAME, type LockHolder } from './data-dir-lock.js';

let dir: string;
let ownHost: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  // The host identity (host name and pid namespace) as the lock writes it.
  const probe = await mkdtemp(join(tmpdir(), 'cw-lock-'));
  const lock = await DataDirLock.acquire(probe);
  ownHost = (JSON.parse(await readFile(lock.path, 'utf8')) as LockHolder).host;
  await lock.release();
  await rm(probe, { recursive: true });
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cw-lock-'));
});

afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

async function writeLock(holder: Partial<LockHolder>, ageMs = 0): Promise<string> {
  const path = join(dir, LOCK_FILE_NAME);
  await writeFile(path, JSON.stringify({ host: ownHost, startedAt: new Date().toISOString(), ...holder }));
  const mtime = new Date(Date.now() - ageMs);
  await utimes(path, mtime, mtime);
  return path;
}

async function holderOf(path: string): Promise<LockHolder> {
  return JSON.parse(await readFile(path, 'utf8')) as LockHolder;
}

function liveProcess(): ChildProcess {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  children.push(child);
  return child;
}

describe('DataDirLock', () => {
  it('refuses a directory whose lock names a live process, naming it', async () => {
    const other = liveProcess();
    await writeLock({ pid: other.pid });

    await expect(DataDirLock.acquire(dir)).rejects.toThrow(
      `The data directory ${dir} is in use by another cronwarden process (pid ${other.pid}`,
    );
  });

  it('takes over a lock whose process and sidecar are gone', async () => {
    const gone = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    await once(gone, 'exit');
    const path = await writeLock({ pid: gone.pid, sidecarPid: gone.pid });

    const lock = await DataDirLock.acquire(dir);

    expect((await holderOf(path)).pid).toBe(process.pid);
    await lock.release();
  });

  it('waits for a live sidecar whose daemon is gone, then takes over', async () => {
    const gone = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    await once(gone, 'exit');
    const sidecar = liveProcess();
    await writeLock({ pid: gone.pid, sidecarPid: sidecar.pid });
    let acquired = false;

    const acquiring = DataDirLock.acquire(dir).then((lock) => {
      acquired = true;
      return lock;
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(acquired).toBe(false);
    sidecar.kill('SIGKILL');

    await (await acquiring).release();
  });

  it('takes over a lock from another host once its heartbeat has stopped', async () => {
    const path = await writeLock({ pid: 1, host: 'elsewhere' }, 60_000);

    const lock = await DataDirLock.acquire(dir);

    expect(await holderOf(path)).toMatchObject({ pid: process.pid, host: ownHost });
    await lock.release();
  });

  it('records the sidecar pid, and release() removes only its own lock', async () => {
    const lock = await DataDirLock.acquire(dir);
    await lock.recordSidecar(4242);
    expect(await holderOf(lock.path)).toMatchObject({ pid: process.pid, sidecarPid: 4242 });

    await writeLock({ pid: 99 });
    await lock.release();

    expect((await holderOf(lock.path)).pid).toBe(99);
  });
});
