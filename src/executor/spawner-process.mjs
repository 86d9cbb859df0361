// The small process that starts the daemon's run commands (see ForkedSpawner in spawner.ts).
//
// Node's spawn() forks the calling process, and a fork costs in proportion to the caller's mapped
// memory: from the daemon (a few hundred MiB with its heap and database client) it takes 1.5–2×
// as long as from a bare Node process, and it blocks the daemon's event loop meanwhile. So the
// daemon forks this process once and asks it over the IPC channel:
//
//   daemon → { type: 'spawn', id, program, args, cwd, env }
//   ← { type: 'ended', id, pid, code, signal, output }  a quick command: exited, its output read to the end
//   ← { type: 'pipe', id, pid, stream: 'stdout' | 'stderr', output?, closed? }
//                                                    with the pipe's handle, or closed: true (twice)
//   ← { type: 'exit', id, code, signal }            when a command whose pipes were handed over has exited
//   ← { type: 'error', id, code, message }          when it could not be started
//
// A command that exits within QUICK_MS with its pipes at their end, having written at most
// QUICK_BYTES, is reported in one message with its output ([stream index, base64] in the order
// read). Any other has its pipes handed over and read by the daemon, after the output read here so
// far (in the first 'pipe' message). Handing a pipe over costs a message the daemon must
// acknowledge before the channel carries anything else, and the daemon a socket per pipe: for a
// burst of short commands that was the limit on runs per second.
//
// A command's stdout and stderr are pipes made from FIFOs (see FifoStock), not the socket pair
// Node's `stdio: 'pipe'` makes: a command writing to a Unix socket in 8 KiB writes (as `head`,
// `cat` and most of C's stdio do) reaches 2.2 GiB/s here, where a pipe reaches 7; read by Node, 2.2
// against 4.0. Should no FIFO be at hand, the command gets the socket pair as before.
//
// It does not fork itself for each command either (see ExecHelper): cronwarden-exec, a small C
// program started once, starts them with posix_spawn, the FIFOs opened by the command itself.
//
// It ignores SIGINT, SIGTERM and SIGHUP (a Ctrl-C reaches the whole foreground process group, and
// the daemon still needs exit statuses while it shuts down) and exits when the channel closes, or
// when its cronwarden-exec has gone.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, existsSync, mkdtempSync, openSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { Socket } from 'node:net';
import { constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { getSystemErrorName } from 'node:util';

if (typeof process.send !== 'function') {
  console.error('spawner-process: must be forked with an IPC channel (it exits when that channel closes)');
  process.exit(2);
}

process.title = 'cronwarden-spawner';
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => undefined);
process.on('disconnect', () => process.exit(0));
process.on('message', (request) => {
  if (request?.type === 'spawn') start(request);
});

/** How long a command may take to be reported in one message, output included. */
const QUICK_MS = 10;
/** The most output such a command may write; more, and its pipes are handed over at once. */
const QUICK_BYTES = 64 * 1024;
const STREAMS = ['stdout', 'stderr'];

/** FIFOs a batch of `mkfifo` makes; another batch is made when fewer than half are left. */
const FIFO_BATCH = 256;

/**
 * FIFOs made ahead in a directory of this process's own, each opened once to give one command a
 * pipe and then unlinked. Node has no call for pipe(2) or mkfifo(2), so `mkfifo` makes them, a batch
 * at a time: one process per 128 commands. The directory (mode 0700, on /dev/shm when there is one)
 * goes when this process exits; one left by a spawner that was killed goes when the next one starts.
 */
class FifoStock {
  constructor() {
    this.names = [];
    this.made = 0;
    this.making = false;
    /** When making a batch at once last failed: for a second after, commands do not wait for one. */
    this.failedAt = -Infinity;
    this.dir = null;
    try {
      const root = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
      removeLeftovers(root);
      const dir = mkdtempSync(join(root, `cronwarden-fifos-${process.pid}-`));
      process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
      this.dir = dir;
      // The first batch before the first command; without it (no mkfifo here), socket pairs.
      if (!this.makeNow()) this.dir = null;
    } catch {
      // No place for FIFOs (a read-only /dev/shm and /tmp): socket pairs.
      this.dir = null;
    }
  }

  /** A new pipe as [read end, write end], or null when none is at hand. */
  take() {
    const fifo = this.takeReader();
    if (fifo === null) return null;
    try {
      return [fifo.read, openSync(fifo.path, constants.O_WRONLY)];
    } catch {
      closeSync(fifo.read);
      return null;
    } finally {
      // Once unlinked, nothing else can open it.
      removeFifo(fifo.path);
    }
  }

  /**
   * A FIFO opened for reading, not yet for writing, with its path: for a command that opens it
   * itself (started by cronwarden-exec), which must then remove the path. Null when none is at hand.
   */
  takeReader() {
    if (this.dir === null) return null;
    // A burst that used the stock up waits for a batch (a few ms) rather than get socket pairs.
    if (this.names.length === 0 && performance.now() - this.failedAt > 1_000) this.makeNow();
    if (this.names.length < FIFO_BATCH / 2) this.refill();
    const path = this.names.pop();
    if (path === undefined) return null;
    try {
      // Opening for reading without waiting for a writer; a writer's open then does not wait either.
      // Node opens with O_CLOEXEC: no command inherits it.
      return { read: openSync(path, constants.O_RDONLY | constants.O_NONBLOCK), path };
    } catch {
      removeFifo(path);
      return null;
    }
  }

  /** Makes a batch and waits for it; false when that failed. */
  makeNow() {
    const names = this.batch();
    try {
      execFileSync('mkfifo', ['-m', '600', ...names], { stdio: 'ignore' });
    } catch {
      this.failedAt = performance.now();
      return false;
    }
    this.names.push(...names);
    return true;
  }

  /** Makes a batch in the background, unless one is being made. */
  refill() {
    if (this.making) return;
    this.making = true;
    const names = this.batch();
    execFile('mkfifo', ['-m', '600', ...names], (error) => {
      this.making = false;
      if (!error) this.names.push(...names);
    });
  }

  /** The paths of the next batch to make. */
  batch() {
    return Array.from({ length: FIFO_BATCH }, () => join(this.dir, String(this.made++)));
  }
}

/** Removes FIFO directories of spawner processes that are gone (killed before they could). */
function removeLeftovers(root) {
  for (const name of readdirSync(root)) {
    const owner = /^cronwarden-fifos-(\d+)-/.exec(name)?.[1];
    if (owner === undefined || isAlive(Number(owner))) continue;
    try {
      rmSync(join(root, name), { recursive: true, force: true });
    } catch {
      // Another user's: theirs to remove.
    }
  }
}

function removeFifo(path) {
  try {
    unlinkSync(path);
  } catch {
    // Gone already: nothing to do.
  }
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

const fifos = new FifoStock();

/**
 * cronwarden-exec (exec-helper.c), which starts commands with posix_spawn, where spawn() forks this
 * process and copies its page tables for every command. Given as `--exec-helper <path>`; without
 * it, or should it fail to start, commands are started here with Node's spawn().
 */
class ExecHelper {
  constructor(path) {
    /** Commands asked for and not yet exited, by request id: { started, failed, exited }. */
    this.waiting = new Map();
    this.nextId = 1;
    this.replies = '';
    this.process = spawn(path, [], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.process.stdin.on('error', () => undefined);
    this.process.stdout.setEncoding('latin1').on('data', (text) => this.receive(text));
    this.process.once('exit', (code, signal) => {
      // Commands it started run on, but how they end can no longer be known here. This process goes
      // too: the daemon reports those commands lost once they are gone, as when this process dies,
      // and starts a new spawner process (with a new cronwarden-exec) for the next command.
      console.error(`spawner-process: cronwarden-exec exited (${signal ? `signal ${signal}` : `code ${code}`}) with ${this.waiting.size} command(s) in hand`);
      process.exit(1);
    });
    this.process.once('error', (error) => {
      console.error(`spawner-process: cronwarden-exec could not be started (${error.message}); commands are started with Node's spawn()`);
    });
  }

  /** Whether it can take a command now. */
  get usable() {
    return this.process.pid !== undefined && this.process.exitCode === null && this.process.signalCode === null;
  }

  /** Asks it to start a command whose stdout and stderr are the FIFOs at `stdoutPath` and `stderrPath`. */
  start({ program, args, cwd, env }, stdoutPath, stderrPath, callbacks) {
    const id = this.nextId++;
    // As spawn() builds them: a variable set to undefined is left out.
    const variables = Object.entries(env).flatMap(([name, value]) => (value === undefined ? [] : [`${name}=${value}`]));
    const body = Buffer.from(`${[id, program, cwd, stdoutPath, stderrPath, args.length, ...args, variables.length, ...variables].join('\0')}\0`);
    const length = Buffer.alloc(4);
    length.writeUInt32LE(body.length);
    this.waiting.set(id, callbacks);
    this.process.stdin.write(Buffer.concat([length, body]));
  }

  receive(text) {
    const lines = (this.replies + text).split('\n');
    this.replies = lines.pop();
    for (const line of lines) {
      const [kind, idText, first, second] = line.split(' ');
      const id = Number(idText);
      const callbacks = this.waiting.get(id);
      if (!callbacks) continue;
      if (kind === 'S') {
        callbacks.started(Number(first));
      } else if (kind === 'F') {
        this.waiting.delete(id);
        callbacks.failed(Number(first));
      } else if (kind === 'X') {
        this.waiting.delete(id);
        const signal = Number(second);
        callbacks.exited(signal === 0 ? Number(first) : null, signal === 0 ? null : (SIGNAL_NAMES.get(signal) ?? `SIG${signal}`));
      }
    }
  }
}

const SIGNAL_NAMES = new Map(Object.entries(osConstants.signals).map(([name, number]) => [number, name]));

const helperArg = process.argv.indexOf('--exec-helper');
const execHelper = helperArg > 0 && process.argv[helperArg + 1] ? new ExecHelper(process.argv[helperArg + 1]) : null;

/** Two of what `take` gives, for a command's stdout and stderr, or null: a first without a second goes back through `giveBack`. */
function takeTwo(take, giveBack) {
  const stdout = take();
  if (stdout === null) return null;
  const stderr = take();
  if (stderr !== null) return [stdout, stderr];
  giveBack(stdout);
  return null;
}

/** Pipes for a command's stdout and stderr: from FIFOs, or null for Node's socket pairs. */
const takePipes = () => takeTwo(() => fifos.take(), (fds) => fds.forEach((fd) => closeSync(fd)));

/** FIFOs for a command started by cronwarden-exec, open for reading, or null when none are at hand. */
const takeReaders = () => takeTwo(() => fifos.takeReader(), ({ read, path }) => (closeSync(read), removeFifo(path)));

/** A Socket reading a FIFO's read end: a Pipe handle, as spawn()'s own, so it can be handed over the same way. */
function fifoReader(fd) {
  const socket = new Socket({ fd, readable: true, writable: false });
  // A read error ends the pipe as its end does ('close' follows); it must not end this process.
  socket.on('error', () => undefined);
  return socket;
}

/** Whether cronwarden-exec can take the request: strings with NUL bytes cannot be passed on (spawn() refuses them with its own error). */
function passable({ program, cwd, args, env }) {
  return ![program, cwd, ...args, ...Object.entries(env).flat()].some((text) => typeof text === 'string' && text.includes('\0'));
}

function start(request) {
  const readers = execHelper?.usable && passable(request) ? takeReaders() : null;
  if (readers) startThroughHelper(request, readers);
  else startHere(request);
}

/** Starts the command through cronwarden-exec: the child opens the FIFOs, read here once it has started. */
function startThroughHelper(request, readers) {
  const { id, program } = request;
  const done = () => readers.forEach(({ path }) => removeFifo(path));
  let exited;
  execHelper.start(request, readers[0].path, readers[1].path, {
    // posix_spawn has returned: the child has both FIFOs open for writing, so reading cannot meet an end before its output.
    started(pid) {
      done();
      exited = follow(id, pid, readers.map(({ read }) => fifoReader(read)));
    },
    failed(errno) {
      done();
      readers.forEach(({ read }) => closeSync(read));
      const code = getSystemErrorName(-errno);
      fail(id, Object.assign(new Error(`spawn ${program} ${code}`), { code }));
    },
    exited: (code, signal) => exited(code, signal),
  });
}

/** Starts the command with Node's spawn(), which forks this process. */
function startHere({ id, program, args, cwd, env }) {
  let child;
  const fifoPipes = takePipes();
  const stdio = fifoPipes ? ['ignore', fifoPipes[0][1], fifoPipes[1][1]] : ['ignore', 'pipe', 'pipe'];
  try {
    child = spawn(program, args, { cwd, env, detached: true, stdio });
  } catch (error) {
    fifoPipes?.flat().forEach((fd) => closeSync(fd));
    fail(id, error);
    return;
  }
  // The child has its write ends (or never will): ours must go, or the pipes would never end.
  fifoPipes?.forEach(([, write]) => closeSync(write));
  if (child.pid === undefined) {
    fifoPipes?.forEach(([read]) => closeSync(read));
    child.once('error', (error) => fail(id, error));
    return;
  }
  // Later errors (none are expected: we never kill from here) must not end this process.
  child.on('error', () => undefined);
  const pipes = fifoPipes ? fifoPipes.map(([read]) => fifoReader(read)) : [child.stdout, child.stderr];
  child.once('exit', follow(id, child.pid, pipes));
}

/**
 * Reads a started command's pipes: reports it in one message if it ends quickly, else hands its pipes
 * over. Returns what to call with its exit code and signal when it exits.
 */
function follow(id, pid, pipes) {
  /** Output read here, in the order read: [stream index, base64]. */
  let output = [];
  let bytes = 0;
  let open = pipes.length;
  let exit = null;
  let reported = false;

  const timer = setTimeout(handOver, QUICK_MS);
  const onData = pipes.map((pipe, i) => (data) => {
    output.push([i, data.toString('base64')]);
    bytes += data.length;
    if (bytes > QUICK_BYTES) handOver();
  });
  const onEnd = () => {
    open--;
    quickEnd();
  };
  pipes.forEach((pipe, i) => {
    pipe.on('data', onData[i]);
    pipe.once('end', onEnd);
  });
  return (code, signal) => {
    exit = { code, signal };
    if (reported) reply({ type: 'exit', id, code, signal });
    else quickEnd();
  };

  function quickEnd() {
    if (reported || exit === null || open > 0) return;
    reported = true;
    clearTimeout(timer);
    reply({ type: 'ended', id, pid, ...exit, output });
  }

  function handOver() {
    if (reported) return;
    reported = true;
    clearTimeout(timer);
    pipes.forEach((pipe, i) => {
      // Only our own listeners: Node's (which close the socket at its end) stay.
      pipe.off('data', onData[i]);
      pipe.off('end', onEnd);
      // What was read so far goes first, with the first pipe; the daemon reads the rest.
      const message = { type: 'pipe', id, pid, stream: STREAMS[i], output };
      output = [];
      // Its end was read: every byte was read here already (a flowing stream emits what it reads at once).
      if (pipe._readableState.ended || !pipe._handle) {
        reply({ ...message, closed: true });
        return;
      }
      // Stop reading before the event loop turns, so that the daemon gets every byte left. Not
      // readable any more, so that Node does not resume it when the command exits (it would read
      // the end of the output, and end or close our copy before it is handed over). Handing a
      // handle over closes our copy once the daemon has it.
      pipe.pause();
      pipe._handle.readStop();
      pipe._handle.reading = false;
      pipe.readable = false;
      reply(message, pipe);
    });
    if (exit) reply({ type: 'exit', id, ...exit });
  }
}

function fail(id, error) {
  reply({ type: 'error', id, code: error.code ?? null, message: error.message });
}

function reply(message, handle) {
  // A send after the daemon went away fails; we exit on 'disconnect' anyway.
  if (process.connected) process.send(message, handle, () => undefined);
}
