// The small process that starts the daemon's run commands (see ForkedSpawner in spawner.ts).
//
// Node's spawn() forks the calling process, and a fork costs in proportion to the caller's mapped
// memory: from the daemon (a few hundred MiB with its heap and database client) it takes 1.5–2×
// as long as from a bare Node process, and it blocks the daemon's event loop meanwhile. So the
// daemon forks this process once and asks it over the IPC channel:
//
//   daemon → { type: 'spawn', id, program, args, cwd, env }
//   ← { type: 'pipe', id, pid, stream: 'stdout' | 'stderr' } with the pipe's handle (twice)
//   ← { type: 'exit', id, code, signal }            when the command's process has exited
//   ← { type: 'error', id, code, message }          when it could not be started
//
// Not a byte of output is read here: the pipes are handed over unread and the daemon reads them.
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
  for (const stream of ['stdout', 'stderr']) {
    const pipe = child[stream];
    // The socket started reading when it was made; stop before the event loop turns, so that the
    // daemon gets every byte. Not readable any more, so that Node does not resume it when the
    // command exits (it would read the end of the output, and end or close our copy before it is
    // handed over). Handing a handle over closes our copy once the daemon has it.
    pipe._handle.readStop();
    pipe._handle.reading = false;
    pipe.readable = false;
    reply({ type: 'pipe', id, pid: child.pid, stream }, pipe);
  }
  child.once('exit', (code, signal) => reply({ type: 'exit', id, code, signal }));
}

function fail(id, error) {
  reply({ type: 'error', id, code: error.code ?? null, message: error.message });
}

function reply(message, handle) {
  // A send after the daemon went away fails; we exit on 'disconnect' anyway.
  if (process.connected) process.send(message, handle, () => undefined);
}
