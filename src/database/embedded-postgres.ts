import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { DAEMON_NODE_FLAGS } from '../common/node-flags.js';
import { DataDirLock } from './data-dir-lock.js';

export interface EmbeddedPostgresOptions {
  dataDir: string;
  /** Connections the sidecar accepts at once; they all share one backend session. Default 32. */
  maxConnections?: number;
  /** How long the first start (initdb, ~3 s) or a reopen may take. Default 30 s. */
  startTimeoutMs?: number;
  /** How long stop() waits after SIGTERM before SIGKILL. Default 10 s. */
  stopTimeoutMs?: number;
  /** Called when the sidecar dies while not being stopped: the daemon has lost its database. */
  onExit?: (code: number | null, signal: string | null) => void;
  /** Receives each line the sidecar writes; default: process.stderr with a prefix. */
  log?: (line: string) => void;
}

/** Options for `pg` (`user`) and, with `username: user`, for TypeORM `type: 'postgres'`. */
export interface EmbeddedConnectionOptions {
  host: string;
  port: number;
  user: string;
  database: string;
}

const SOCKET_NAME = '.s.PGSQL.5432';
// sun_path holds 108 bytes with the terminating NUL on Linux.
const MAX_SOCKET_PATH_BYTES = 107;
const OUTPUT_TAIL_LINES = 20;

/**
 * PGlite served by a supervised sidecar process on a Unix socket in the data directory, guarded by a
 * lock so a second daemon on the same directory fails instead of corrupting it.
 */
export class EmbeddedPostgres {
  private stopping: Promise<void> | undefined;

  private constructor(
    /** The directory holding the socket: pass it to `pg` as `host`. */
    readonly socketDir: string,
    private readonly child: ChildProcess,
    private readonly lock: DataDirLock,
    private readonly stopTimeoutMs: number,
  ) {}

  /** The sidecar's process id. */
  get sidecarPid(): number {
    return this.child.pid!;
  }

  /**
   * Creates `dataDir` if missing, locks it, forks the sidecar and resolves once it accepts connections.
   * Rejects with the sidecar's error (and its last output lines) if it fails or times out.
   */
  static async start(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
    await mkdir(options.dataDir, { recursive: true });
    const dataDir = await realpath(options.dataDir);
    const socketPath = join(dataDir, SOCKET_NAME);
    if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH_BYTES) {
      throw new Error(`The data directory path ${dataDir} is too long for a Unix socket; choose a shorter one`);
    }
    const lock = await DataDirLock.acquire(dataDir);
    const log = options.log ?? ((line: string) => process.stderr.write(`[embedded-postgres] ${line}\n`));
    const tail: string[] = [];
    let child: ChildProcess | undefined;
    try {
      child = forkSidecar(dataDir, options.maxConnections ?? 32, (line) => {
        tail.push(line);
        if (tail.length > OUTPUT_TAIL_LINES) tail.shift();
        log(line);
      });
      if (child.pid !== undefined) await lock.recordSidecar(child.pid);
      await waitForReady(child, options.startTimeoutMs ?? 30_000, tail);
    } catch (error) {
      if (child) await terminate(child, 2_000);
      await lock.release();
      throw error;
    }
    const embedded = new EmbeddedPostgres(dataDir, child, lock, options.stopTimeoutMs ?? 10_000);
    const onExit = options.onExit ?? ((code, signal) => log(`sidecar exited unexpectedly (${describeExit(code, signal)})`));
    child.once('exit', (code, signal) => {
      if (!embedded.stopping) onExit(code, signal);
    });
    return embedded;
  }

  /** Where `pg` and TypeORM connect: PGlite's only user and database are both `postgres`. */
  connectionOptions(): EmbeddedConnectionOptions {
    return { host: this.socketDir, port: 5432, user: 'postgres', database: 'postgres' };
  }

  /** SIGTERM (the sidecar flushes and closes PGlite), SIGKILL after the timeout, then releases the lock. */
  stop(): Promise<void> {
    this.stopping ??= terminate(this.child, this.stopTimeoutMs).then(() => this.lock.release());
    return this.stopping;
  }
}

function forkSidecar(dataDir: string, maxConnections: number, onLine: (line: string) => void): ChildProcess {
  const script = fileURLToPath(new URL('./pglite-server.mjs', import.meta.url));
  const child = fork(script, ['--data-dir', dataDir, '--max-connections', String(maxConnections)], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    // The daemon's own flags (--inspect, heap limits) are not meant for the sidecar; the shipped ones are.
    execArgv: [...DAEMON_NODE_FLAGS],
    // Its own process group: Ctrl-C in a terminal must not close the database under a daemon that is
    // still shutting down; the daemon stops it last.
    detached: true,
  });
  // Without a listener, a late IPC error would crash the daemon.
  child.on('error', (error) => onLine(`sidecar process error: ${error.message}`));
  forwardLines(child.stdout, onLine);
  forwardLines(child.stderr, onLine);
  return child;
}

// Reading both pipes to the end also keeps a chatty sidecar from blocking on a full pipe.
function forwardLines(stream: Readable | null, onLine: (line: string) => void): void {
  if (stream) createInterface({ input: stream, crlfDelay: Infinity }).on('line', onLine);
}

function waitForReady(child: ChildProcess, timeoutMs: number, tail: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (error?: Error) => {
      clearTimeout(timer);
      child.off('message', onMessage).off('exit', onExit).off('error', onError);
      if (error) reject(error);
      else resolve();
    };
    const fail = (reason: string, withOutput = true) => {
      const output = withOutput && tail.length > 0 ? `\nLast sidecar output:\n${tail.join('\n')}` : '';
      settle(new Error(`Embedded PostgreSQL did not start: ${reason}${output}`));
    };
    const onMessage = (message: { type?: string; message?: string }) => {
      if (message?.type === 'ready') settle();
      else if (message?.type === 'error') fail(message.message ?? 'unknown error', false);
    };
    const onExit = (code: number | null, signal: string | null) => fail(`sidecar exited (${describeExit(code, signal)})`);
    const onError = (error: Error) => fail(error.message);
    const timer = setTimeout(() => fail(`no answer within ${timeoutMs} ms`), timeoutMs);
    child.on('message', onMessage).on('exit', onExit).on('error', onError);
  });
}

/** Ends the sidecar: SIGTERM, then SIGKILL if it is still there after `graceMs`. */
async function terminate(child: ChildProcess, graceMs: number): Promise<void> {
  // A child whose spawn failed has no pid and never exits.
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  // once() also settles on an 'error' event, so a failed kill cannot hang stop().
  const exited = once(child, 'exit').then(
    () => 'exited',
    () => 'exited',
  );
  child.kill('SIGTERM');
  const graceOver = new AbortController();
  const graceTimer = sleep(graceMs, 'timeout', { signal: graceOver.signal }).catch(() => 'aborted');
  const outcome = await Promise.race([exited, graceTimer]);
  graceOver.abort();
  if (outcome === 'exited') return;
  child.kill('SIGKILL');
  await exited;
}

function describeExit(code: number | null, signal: string | null): string {
  return signal ? `signal ${signal}` : `exit code ${code}`;
}
