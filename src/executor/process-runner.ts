import { existsSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { Injectable, Optional } from '@nestjs/common';
import { OutputCapture } from './output-capture.js';
import { readPipe } from './pipe-reader.js';
import { killProcessGroup, processGroupAlive } from './process-group.js';
import { DirectSpawner, Spawner, type SpawnExit, type SpawnedChild } from './spawner.js';

/** What to run and under which limits; the environment is complete (see buildChildEnv). */
export interface RunSpec {
  /** argv; with `shell`, command[0] is a script for `/bin/sh -c` and the rest become $1, $2, … */
  command: string[];
  shell: boolean;
  cwd: string;
  env: Record<string, string>;
  /** 0 or less: no timeout. */
  timeoutMs: number;
  killGraceMs: number;
  maxOutputBytes: number;
}

/** How a run ended. A failed run is data: `run()` never rejects. */
export interface RunResult {
  exitCode: number | null;
  signal: string | null;
  durationMs: number;
  timedOut: boolean;
  cancelled: boolean;
  /** SIGKILL went to the group because it outlived the grace after SIGTERM. */
  forceKilled: boolean;
  outputBytes: number;
  outputTruncated: boolean;
  /** Why the process could not be started (ENOENT, EACCES, bad cwd…), else null. */
  error: string | null;
  pid: number | null;
  startedAt: Date;
  finishedAt: Date;
}

export interface RunOptions {
  /** Aborting it stops the run like a timeout does (SIGTERM, then SIGKILL) and marks it cancelled. */
  signal?: AbortSignal;
  /** Told of the process once started; `ended` when it had exited by then (a quick command, see spawner-process.mjs). */
  onSpawn?: (pid: number, started: { ended: boolean }) => void;
  /** Where output goes; created from spec.maxOutputBytes when absent. */
  output?: OutputCapture;
}

/**
 * After the group leader exited, how long its pipes may stay open. A process that left the group
 * (setsid, double fork) can hold them forever; we stop reading then rather than hang the run.
 */
export const PIPE_CLOSE_WAIT_MS = 2_000;
/** setTimeout turns delays above 2^31-1 ms into 1 ms, so longer timeouts are waited in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const GROUP_POLL_MS = 20;

/**
 * Runs pipeline commands as supervised children: no shell unless asked, own process group, stdin
 * closed, output always drained into an OutputCapture. A timeout or an abort sends SIGTERM to the
 * whole group and SIGKILL after the grace. The run's processes end with the run: once the leader has
 * exited, group members still alive are killed (after the remaining grace when the run was being
 * stopped, at once otherwise), and pipes still open PIPE_CLOSE_WAIT_MS later are closed by us.
 */
@Injectable()
export class ProcessRunner {
  /** The daemon injects its ForkedSpawner; tools and tests start commands from their own process. */
  constructor(@Optional() private readonly spawner: Spawner = new DirectSpawner()) {}

  /** Runs `spec` to completion and describes how it ended; never rejects. */
  run(spec: RunSpec, options: RunOptions = {}): Promise<RunResult> {
    return new SupervisedRun(spec, options, this.spawner).result();
  }
}

/** One run's state: kept in one object so each step reads as a small method. */
class SupervisedRun {
  private readonly output: OutputCapture;
  private readonly startedAt = new Date();
  private readonly startedAtMs = performance.now();
  private pid: number | null = null;
  private stopReason: 'timeout' | 'cancel' | null = null;
  private termSentAtMs = 0;
  private forceKilled = false;
  private leaderExited = false;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly spec: RunSpec,
    private readonly options: RunOptions,
    private readonly spawner: Spawner,
  ) {
    this.output = options.output ?? new OutputCapture(spec.maxOutputBytes);
  }

  async result(): Promise<RunResult> {
    if (this.options.signal?.aborted) {
      this.stopReason = 'cancel';
      return this.finish(null, 'cancelled before the process started');
    }
    const { command, shell, cwd, env } = this.spec;
    if (command.length === 0 || command[0] === '') return this.finish(null, 'empty command');
    const [program, args] = shell ? ['/bin/sh', ['-c', command[0], 'sh', ...command.slice(1)]] : [command[0], command.slice(1)];
    let child: SpawnedChild;
    try {
      child = await this.spawner.spawn({ program, args, cwd, env });
    } catch (error) {
      return this.finish(null, this.describeSpawnError(error as Error));
    }
    return this.supervise(child);
  }

  private async supervise(child: SpawnedChild): Promise<RunResult> {
    const { pid } = child;
    this.pid = pid;
    // Output read before the pipes were ours comes first; each read of a pipe is copied as far as
    // the capture keeps it: bytes past the cap are never allocated.
    for (const piece of child.output) this.output.write(piece.stream, piece.data);
    const pipes = (['stdout', 'stderr'] as const).flatMap((stream) => {
      const pipe = child[stream];
      return pipe ? [readPipe(pipe, (data) => this.output.write(stream, data))] : [];
    });
    // A pipe handed over by the spawner process may have closed already (a command without
    // output that exited at once); one with output cannot: its bytes wait for our reader.
    const pipesClosed = Promise.all(pipes.map((pipe) => new Promise((resolve) => (pipe.closed ? resolve(undefined) : pipe.once('close', resolve)))));
    const onAbort = (): void => this.stop('cancel');
    // A command that had ended when it was handed over ran to its end: an abort or a timeout can
    // no longer stop it, and its outcome stands (a cancel is still recorded as asked).
    if (!child.ended) {
      this.options.signal?.addEventListener('abort', onAbort, { once: true });
      // Starting the command takes a moment (a round trip to the spawner): an abort meanwhile counts.
      if (this.options.signal?.aborted) this.stop('cancel');
      if (this.spec.timeoutMs > 0) this.after(this.spec.timeoutMs, () => this.stop('timeout'));
    }
    this.options.onSpawn?.(pid, { ended: child.ended });

    const exit = await child.exited;
    this.leaderExited = true;
    this.options.signal?.removeEventListener('abort', onAbort);
    this.clearTimers();
    await this.endGroup(pid);
    const pipeWait = new Promise<boolean>((resolve) => this.after(PIPE_CLOSE_WAIT_MS, () => resolve(false)));
    const closedInTime = await Promise.race([pipesClosed.then(() => true), pipeWait]);
    if (!closedInTime) pipes.forEach((pipe) => pipe.destroy());
    return this.finish(exit, exit.lost ?? null);
  }

  /** Timeout or cancel: SIGTERM to the group now, SIGKILL if the leader still lives after the grace. */
  private stop(reason: 'timeout' | 'cancel'): void {
    if (this.stopReason || this.leaderExited || this.pid === null) return;
    this.stopReason = reason;
    this.termSentAtMs = performance.now();
    killProcessGroup(this.pid, 'SIGTERM');
    this.after(this.spec.killGraceMs, () => {
      if (!this.leaderExited && this.pid !== null) this.forceKill(this.pid);
    });
  }

  /** After the leader exited: members left in its group end with the run. */
  private async endGroup(pid: number): Promise<void> {
    if (!processGroupAlive(pid)) return;
    if (this.stopReason === null) {
      killProcessGroup(pid, 'SIGKILL');
      return;
    }
    // They got SIGTERM with the leader; let them use what is left of the grace.
    const deadline = this.termSentAtMs + this.spec.killGraceMs;
    while (performance.now() < deadline) {
      await delay(GROUP_POLL_MS);
      if (!processGroupAlive(pid)) return;
    }
    this.forceKill(pid);
  }

  private forceKill(pid: number): void {
    if (killProcessGroup(pid, 'SIGKILL')) this.forceKilled = true;
  }

  /** setTimeout that also works past 2^31-1 ms, cleared together by clearTimers(). */
  private after(ms: number, fire: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (ms > MAX_TIMER_MS) this.after(ms - MAX_TIMER_MS, fire);
      else fire();
    }, Math.min(ms, MAX_TIMER_MS));
    this.timers.add(timer);
  }

  private clearTimers(): void {
    this.timers.forEach((timer) => clearTimeout(timer));
    this.timers.clear();
  }

  private describeSpawnError(error: Error): string {
    const code = (error as NodeJS.ErrnoException).code;
    // Node reports a missing cwd as the program missing; say which one it was.
    if ((code === 'ENOENT' || code === 'ENOTDIR') && !existsSync(this.spec.cwd)) {
      return `working directory ${this.spec.cwd} does not exist (${code})`;
    }
    if (code === 'ENOTDIR') return `working directory ${this.spec.cwd} is not a directory (ENOTDIR)`;
    if (code === 'ENOENT') return `${error.message}: program not found`;
    if (code === 'EACCES') return `${error.message}: permission denied (not executable?)`;
    return error.message;
  }

  private finish(exit: SpawnExit | null, error: string | null): RunResult {
    this.clearTimers();
    const durationMs = Math.round(performance.now() - this.startedAtMs);
    return {
      exitCode: exit?.code ?? null,
      signal: exit?.signal ?? null,
      durationMs,
      timedOut: this.stopReason === 'timeout',
      cancelled: this.stopReason === 'cancel',
      forceKilled: this.forceKilled,
      outputBytes: this.output.totalBytes,
      outputTruncated: this.output.truncated,
      error,
      pid: this.pid,
      startedAt: this.startedAt,
      finishedAt: new Date(this.startedAt.getTime() + durationMs),
    };
  }
}
