import { fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Inject, Injectable, Logger, Optional, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { withNodeFlags } from '../common/node-flags.js';
import { killProcessGroup } from './process-group.js';
import { isRunning } from './process-identity.js';

/** A command to start: program and argv, in its own process group, stdin closed, stdout and stderr piped. */
export interface SpawnRequest {
  program: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
}

/** How the process ended; `lost` says why neither code nor signal could be known. */
export interface SpawnExit {
  code: number | null;
  signal: string | null;
  lost?: string;
}

/** Output read before the daemon had the pipes, in the order it was read. */
export interface OutputPiece {
  stream: 'stdout' | 'stderr';
  data: Buffer;
}

export interface SpawnedChild {
  pid: number;
  /** A pipe still open, to read to its end; null when all of its output is in `output`. */
  stdout: Readable | null;
  stderr: Readable | null;
  /** Output read before the pipes were handed over (all of it for a quick command): it comes first. */
  output: OutputPiece[];
  /** The process had exited before it was handed over (`exited` has resolved): there is nothing left to watch. */
  ended: boolean;
  exited: Promise<SpawnExit>;
}

/**
 * Starts run commands. `spawn()` rejects with the system's error (its `code`: ENOENT, EACCES…)
 * when the command cannot be started. An abstract class, so that it is the injection token.
 */
export abstract class Spawner {
  abstract spawn(request: SpawnRequest): Promise<SpawnedChild>;
}

/** spawn() in this process: for tools and tests, where the caller is small. */
export class DirectSpawner extends Spawner {
  spawn({ program, args, cwd, env }: SpawnRequest): Promise<SpawnedChild> {
    return new Promise((resolve, reject) => {
      let child: ChildProcess;
      try {
        child = spawn(program, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      } catch (error) {
        reject(error as Error);
        return;
      }
      // Spawn failures arrive as 'error' with no pid; later ones (a failed kill) must not crash the daemon.
      if (child.pid === undefined) {
        child.once('error', reject);
        return;
      }
      child.on('error', () => undefined);
      const exited = new Promise<SpawnExit>((done) => child.once('exit', (code, signal) => done({ code, signal })));
      resolve({ pid: child.pid, stdout: child.stdout!, stderr: child.stderr!, output: [], ended: false, exited });
    });
  }
}

const SPAWNER_SCRIPT = fileURLToPath(new URL('./spawner-process.mjs', import.meta.url));
/**
 * Helper processes started. spawn() blocks its caller until the child has exec'd (~1.4 ms here),
 * so one process starts ~650 commands a second however idle the CPU; a second one overlaps those
 * waits (1,000/s). Through cronwarden-exec one did as well, within the noise; a second still keeps
 * a burst off one event loop. Each costs ~40 MiB.
 */
export const SPAWNER_PROCESSES = 2;
/** Injection token for another number of helper processes (tests use one). */
export const SPAWNER_PROCESS_COUNT = Symbol('SPAWNER_PROCESS_COUNT');
/** The spawner process's node flags: the daemon's own (heap limits), not a debugger's, plus the shipped ones. */
export function spawnerExecArgv(execArgv: readonly string[]): string[] {
  return withNodeFlags(execArgv.filter((arg) => !/^--(inspect|debug)/.test(arg)));
}

/**
 * cronwarden-exec, which `npm run build` compiles from exec-helper.c into dist/executor when there is
 * a C compiler: the helper processes start commands through it, with posix_spawn.
 */
export const EXEC_HELPER = fileURLToPath(new URL('./cronwarden-exec', import.meta.url));
/** Injection token for another cronwarden-exec, or null for Node's spawn() (tests use both). */
export const EXEC_HELPER_PATH = Symbol('EXEC_HELPER_PATH');
/** How often a child orphaned by the spawner's death is looked for until it is gone. */
const ORPHAN_POLL_MS = 200;

/** Output as the helper sends it: [0 for stdout or 1 for stderr, base64]. */
type WireOutput = Array<[0 | 1, string]>;

type SpawnerMessage =
  | { type: 'ended'; id: number; pid: number; code: number | null; signal: string | null; output: WireOutput }
  | { type: 'pipe'; id: number; pid: number; stream: 'stdout' | 'stderr'; output?: WireOutput; closed?: boolean }
  | { type: 'exit'; id: number; code: number | null; signal: string | null }
  | { type: 'error'; id: number; code: string | null; message: string };

interface Pending {
  /** The helper asked to start it: a helper that dies loses its own commands, not those of the next one. */
  helper: ChildProcess;
  resolve: (child: SpawnedChild) => void;
  reject: (error: Error) => void;
  pid: number | null;
  /** Each pipe once the helper told of it: its handle, or null when it had closed already. */
  pipes: Partial<Record<'stdout' | 'stderr', Socket | null>>;
  output: OutputPiece[];
  exited: Promise<SpawnExit>;
  exit: (exit: SpawnExit) => void;
}

/**
 * Starts commands from a small helper process (spawner-process.mjs), forked once and again if it
 * dies. Node's spawn() forks the caller, which costs in proportion to the caller's memory and
 * blocks its event loop: from the daemon it took 9.5–13.5 ms against 6.1 ms from a bare Node
 * process on the benchmark machine, and was half the daemon's CPU under load. The helper has its
 * cronwarden-exec start the command with posix_spawn (where it was built; else it uses spawn()),
 * reports a command that ended at once in one message with its output, and of any other hands back
 * the pid and both pipes (with what it read of them), then the exit status. The daemon signals
 * process groups itself, as before.
 *
 * If the helper dies, commands it was starting fail with a clear error, and commands already
 * running keep running (their pipes are ours) but their exit status is lost: each ends, once its
 * process is gone, with `lost` set.
 */
@Injectable()
export class ForkedSpawner extends Spawner implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Spawner');
  /** One slot per helper process; null until started, and again once it died or was retired. */
  private readonly helpers: Array<ChildProcess | null>;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  /** The cronwarden-exec the helper processes start commands through, or null: they use spawn(). */
  readonly execHelper: string | null;
  /** Whether `npm run build` compiled cronwarden-exec (for the start log when it is not used). */
  private readonly execHelperBuilt: boolean;

  constructor(
    @Optional() @Inject(SPAWNER_PROCESS_COUNT) processes: number = SPAWNER_PROCESSES,
    @Optional() @Inject(EXEC_HELPER_PATH) execHelper: string | null | undefined = undefined,
  ) {
    super();
    this.helpers = Array.from({ length: Math.max(1, processes) }, () => null);
    this.execHelperBuilt = existsSync(EXEC_HELPER);
    this.execHelper = execHelper === undefined ? (this.execHelperBuilt ? EXEC_HELPER : null) : execHelper;
  }

  /** The first helper's pid while it runs (for operators and tests). */
  get helperPid(): number | null {
    return this.helpers[0]?.pid ?? null;
  }

  /** The pids of the helpers running now. */
  get helperPids(): number[] {
    return this.helpers.flatMap((helper) => (helper?.pid === undefined ? [] : [helper.pid]));
  }

  spawn(request: SpawnRequest): Promise<SpawnedChild> {
    const slot = this.leastBusySlot();
    const current = this.helpers[slot];
    const helper = current?.connected ? current : this.startHelper(slot);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      let exit!: (exit: SpawnExit) => void;
      const exited = new Promise<SpawnExit>((done) => (exit = done));
      this.pending.set(id, { helper, resolve, reject, pid: null, pipes: {}, output: [], exited, exit });
      this.keepAlive();
      helper.send({ type: 'spawn', id, ...request }, (error) => {
        if (!error) return;
        this.fail(id, new Error(`could not ask the spawner process to start the command: ${error.message}`));
        this.retire(helper);
      });
    });
  }

  /** At start, so that the first runs do not wait for the helpers to boot. */
  onModuleInit(): void {
    if (this.execHelper) this.logger.log(`run commands are started by ${this.execHelper} (posix_spawn)`);
    else if (this.execHelperBuilt) this.logger.log("run commands are started with Node's spawn()");
    else this.logger.warn(`${EXEC_HELPER} was not built (no C compiler when \`npm run build\` ran): run commands are started with Node's spawn(), which takes 1.3–2.3 times the CPU per command`);
    this.helpers.forEach((helper, slot) => helper ?? this.startHelper(slot));
  }

  onApplicationShutdown(): void {
    // Runs have ended by now (ExecutorService.shutdown); a helper exits when its channel closes.
    for (const helper of this.helpers) if (helper?.connected) helper.disconnect();
  }

  /** The slot whose helper has the fewest commands in hand (a slot without one has none). */
  private leastBusySlot(): number {
    if (this.helpers.length === 1) return 0;
    const load = this.helpers.map(() => 0);
    for (const { helper } of this.pending.values()) {
      const slot = this.helpers.indexOf(helper);
      if (slot >= 0) load[slot]++;
    }
    return load.indexOf(Math.min(...load));
  }

  private startHelper(slot: number): ChildProcess {
    const args = this.execHelper ? ['--exec-helper', this.execHelper] : [];
    const helper = fork(SPAWNER_SCRIPT, args, { execArgv: spawnerExecArgv(process.execArgv), stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    helper.on('message', (message: SpawnerMessage, handle?: Socket) => this.receive(message, handle));
    helper.on('error', (error) => this.logger.error(`the spawner process: ${error.message}`));
    helper.once('exit', (code, signal) => this.helperExited(helper, code, signal));
    // Only the channel, and only while commands are in hand, keeps the event loop alive (keepAlive).
    helper.unref();
    this.helpers[slot] = helper;
    return helper;
  }

  private receive(message: SpawnerMessage, handle?: Socket): void {
    const pending = this.pending.get(message.id);
    if (!pending) {
      // A pipe for a command we gave up on: close it rather than leak it.
      handle?.destroy();
      return;
    }
    if (message.type === 'error') {
      this.pending.delete(message.id);
      pending.reject(Object.assign(new Error(message.message), { code: message.code ?? undefined }));
    } else if (message.type === 'ended') {
      this.pending.delete(message.id);
      pending.exit({ code: message.code, signal: message.signal });
      pending.resolve({ pid: message.pid, stdout: null, stderr: null, output: decodeOutput(message.output), ended: true, exited: pending.exited });
    } else if (message.type === 'pipe') {
      pending.pid = message.pid;
      if (message.output) pending.output.push(...decodeOutput(message.output));
      if (handle) handle.on('error', () => undefined);
      pending.pipes[message.stream] = handle ?? null;
      const { stdout, stderr } = pending.pipes;
      if (stdout !== undefined && stderr !== undefined) {
        pending.resolve({ pid: message.pid, stdout, stderr, output: pending.output, ended: false, exited: pending.exited });
      }
    } else {
      this.pending.delete(message.id);
      pending.exit({ code: message.code, signal: message.signal });
    }
    this.keepAlive();
  }

  /**
   * A helper whose channel failed (EPIPE: it died, and its exit is not yet seen here) gets no more
   * commands: the next one starts a new helper rather than failing the same way.
   */
  private retire(helper: ChildProcess): void {
    this.forget(helper);
    if (helper.connected) helper.disconnect();
  }

  private fail(id: number, error: Error): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    this.pending.delete(id);
    pending.reject(error);
    this.keepAlive();
  }

  private helperExited(helper: ChildProcess, code: number | null, signal: string | null): void {
    this.forget(helper);
    // Commands given to a new helper since this one disconnected (or was retired) are not its own.
    const inHand = [...this.pending].filter(([, pending]) => pending.helper === helper);
    if (inHand.length === 0) return;
    const how = signal ? `signal ${signal}` : `code ${code}`;
    this.logger.error(`the spawner process exited (${how}) with ${inHand.length} command(s) in hand; it is started again for the next one`);
    for (const [id, pending] of inHand) {
      const { stdout, stderr } = pending.pipes;
      if (pending.pid !== null && stdout !== undefined && stderr !== undefined) {
        // Running, and its pipes are ours: it goes on, but nobody is left to tell us how it ends.
        void waitUntilGone(pending.pid).then(() => pending.exit({ code: null, signal: null, lost: `the spawner process exited (${how}) while the command ran: its exit status is unknown` }));
      } else {
        Object.values(pending.pipes).forEach((pipe) => pipe?.destroy());
        if (pending.pid !== null) killProcessGroup(pending.pid, 'SIGKILL');
        pending.reject(new Error(`the spawner process exited (${how}) before the command was started`));
      }
      this.pending.delete(id);
    }
    this.keepAlive();
  }

  /** Its slot is free for a new helper. */
  private forget(helper: ChildProcess): void {
    const slot = this.helpers.indexOf(helper);
    if (slot >= 0) this.helpers[slot] = null;
  }

  /** A channel keeps the event loop alive only while its helper has commands in hand, so a closed app can exit. */
  private keepAlive(): void {
    for (const helper of this.helpers) {
      const channel = helper?.channel;
      if (!channel) continue;
      let busy = false;
      for (const pending of this.pending.values()) if (pending.helper === helper) busy = true;
      if (busy) channel.ref();
      else channel.unref();
    }
  }
}

const STREAMS = ['stdout', 'stderr'] as const;

function decodeOutput(output: WireOutput): OutputPiece[] {
  return output.map(([stream, base64]) => ({ stream: STREAMS[stream], data: Buffer.from(base64, 'base64') }));
}

async function waitUntilGone(pid: number): Promise<void> {
  while (isRunning(pid)) await new Promise((resolve) => setTimeout(resolve, ORPHAN_POLL_MS));
}
