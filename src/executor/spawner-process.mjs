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
// It ignores SIGINT, SIGTERM and SIGHUP (a Ctrl-C reaches the whole foreground process group, and
// the daemon still needs exit statuses while it shuts down) and exits when the channel closes.
import { spawn } from 'node:child_process';

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

function start({ id, program, args, cwd, env }) {
  let child;
  try {
    child = spawn(program, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    fail(id, error);
    return;
  }
  if (child.pid === undefined) {
    child.once('error', (error) => fail(id, error));
    return;
  }
  // Later errors (none are expected: we never kill from here) must not end this process.
  child.on('error', () => undefined);
  const pid = child.pid;
  const pipes = [child.stdout, child.stderr];
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
  child.once('exit', (code, signal) => {
    exit = { code, signal };
    if (reported) reply({ type: 'exit', id, code, signal });
    else quickEnd();
  });

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
