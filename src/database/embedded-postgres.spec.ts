import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createPgliteDataDir } from '../../test/support/databases.js';
import { LOCK_FILE_NAME } from './data-dir-lock.js';
import { EmbeddedPostgres, type EmbeddedPostgresOptions } from './embedded-postgres.js';

const fixtures = fileURLToPath(new URL('../../test/fixtures/embedded/', import.meta.url));
const running: EmbeddedPostgres[] = [];
const children: ChildProcess[] = [];
const dirs: string[] = [];

async function start(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const embedded = await EmbeddedPostgres.start({ log: () => undefined, ...options });
  running.push(embedded);
  return embedded;
}

async function dataDir(): Promise<string> {
  const dir = await createPgliteDataDir();
  dirs.push(dir);
  return dir;
}

async function query<T>(embedded: EmbeddedPostgres, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client(embedded.connectionOptions());
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** Starts EmbeddedPostgres in a separate process that plays the daemon; resolves with both pids. */
async function startDaemonProcess(dir: string): Promise<{ pid: number; sidecarPid: number }> {
  const child = spawn(process.execPath, ['--import', `${fixtures}ts-register.mjs`, `${fixtures}start-embedded.mjs`, dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  return JSON.parse(line) as { pid: number; sidecarPid: number };
}

/** Alive and not a zombie waiting to be reaped. */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

async function waitUntil(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(25);
  }
}

async function lockFileExists(dir: string): Promise<boolean> {
  return stat(join(dir, LOCK_FILE_NAME)).then(() => true, () => false);
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((embedded) => embedded.stop()));
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('EmbeddedPostgres', () => {
  it('serves SQL to pg over a Unix socket in the data directory, as user and database postgres', async () => {
    const dir = await dataDir();
    const embedded = await start({ dataDir: dir });

    const rows = await query<{ one: number; user: string; db: string }>(
      embedded,
      'SELECT 1 AS one, current_user AS user, current_database() AS db',
    );

    expect(rows).toEqual([{ one: 1, user: 'postgres', db: 'postgres' }]);
    expect(embedded.socketDir).toBe(dir);
    expect((await stat(join(dir, '.s.PGSQL.5432'))).isSocket()).toBe(true);
  });

  it('creates a missing data directory and initialises a new cluster in it', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'cw-embedded-'));
    dirs.push(parent);
    const embedded = await start({ dataDir: join(parent, 'nested', 'data') });

    expect(await query(embedded, 'SELECT 2 AS two')).toEqual([{ two: 2 }]);
  });

  it('keeps the data across a stop and a start on the same directory', async () => {
    const dir = await dataDir();
    const first = await start({ dataDir: dir });
    await query(first, 'CREATE TABLE kept (note text)');
    await query(first, 'INSERT INTO kept VALUES ($1)', ['still here']);
    await first.stop();

    const second = await start({ dataDir: dir });

    expect(await query(second, 'SELECT note FROM kept')).toEqual([{ note: 'still here' }]);
    expect(await lockFileExists(dir)).toBe(true);
    await second.stop();
    expect(await lockFileExists(dir)).toBe(false);
  });

  it('refuses a second start on a directory in use, naming the directory and the pid, and leaves it alone', async () => {
    const dir = await dataDir();
    const first = await start({ dataDir: dir });
    const lockBefore = await readFile(join(dir, LOCK_FILE_NAME), 'utf8');

    const second = start({ dataDir: dir });

    await expect(second).rejects.toThrow(`The data directory ${dir} is in use by another cronwarden process (pid ${process.pid}`);
    expect(await readFile(join(dir, LOCK_FILE_NAME), 'utf8')).toBe(lockBefore);
    expect(await query(first, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('calls onExit when the sidecar dies, and stop() still releases the directory', async () => {
    const dir = await dataDir();
    let reportExit!: (exit: [number | null, string | null]) => void;
    const exited = new Promise<[number | null, string | null]>((resolve) => (reportExit = resolve));
    const embedded = await start({ dataDir: dir, onExit: (code, signal) => reportExit([code, signal]) });

    process.kill(embedded.sidecarPid, 'SIGKILL');

    expect(await exited).toEqual([null, 'SIGKILL']);
    await embedded.stop();
    expect(await lockFileExists(dir)).toBe(false);
  });

  it('does not call onExit when stopped, and the sidecar is gone when stop() resolves', async () => {
    const exits: unknown[] = [];
    const embedded = await start({ dataDir: await dataDir(), onExit: (...exit) => exits.push(exit) });

    await embedded.stop();

    expect(isRunning(embedded.sidecarPid)).toBe(false);
    expect(exits).toEqual([]);
  });

  it('ends the sidecar when its daemon is killed with -9, and the directory can then be started again', async () => {
    const dir = await dataDir();
    const daemon = await startDaemonProcess(dir);

    process.kill(daemon.pid, 'SIGKILL');
    await waitUntil(() => !isRunning(daemon.sidecarPid), 'the orphaned sidecar exits');
    const embedded = await start({ dataDir: dir });

    expect(await query(embedded, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('waits for the orphaned sidecar to close the data when started right after its daemon was killed with -9', async () => {
    const dir = await dataDir();
    const daemon = await startDaemonProcess(dir);

    process.kill(daemon.pid, 'SIGKILL');
    const embedded = await start({ dataDir: dir });

    expect(isRunning(daemon.sidecarPid)).toBe(false);
    expect(await query(embedded, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('starts over the stale socket file and lock left when daemon and sidecar both die with -9', async () => {
    const dir = await dataDir();
    const daemon = await startDaemonProcess(dir);
    process.kill(daemon.sidecarPid, 'SIGKILL');
    process.kill(daemon.pid, 'SIGKILL');
    await waitUntil(() => !isRunning(daemon.pid) && !isRunning(daemon.sidecarPid), 'both processes are gone');
    expect((await stat(join(dir, '.s.PGSQL.5432'))).isSocket()).toBe(true);

    const embedded = await start({ dataDir: dir });

    expect(await query(embedded, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it("rejects with the sidecar's error and releases the directory when PGlite cannot open it", async () => {
    const dir = await dataDir();
    await rm(join(dir, 'pgdata'), { recursive: true });
    await writeFile(join(dir, 'pgdata'), 'not a directory');

    await expect(start({ dataDir: dir })).rejects.toThrow(/Embedded PostgreSQL did not start: .*pgdata/);
    expect(await lockFileExists(dir)).toBe(false);
  });

  it('rejects a data directory whose socket path would be too long', async () => {
    const dir = join(tmpdir(), 'cw-embedded-' + 'x'.repeat(120));

    await expect(EmbeddedPostgres.start({ dataDir: dir })).rejects.toThrow(/too long for a Unix socket/);
    await rm(dir, { recursive: true, force: true });
  });
});
