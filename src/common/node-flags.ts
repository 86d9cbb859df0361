/**
 * The Node flags the daemon runs with: `npm start`, the systemd unit, the Docker image and the
 * `cronwarden` command pass them, and the daemon passes them on to the processes it forks (the
 * spawner processes, the embedded database's sidecar). test/deploy checks that every entry point has them.
 *
 * `--no-memory-reducer`: V8's memory reducer waits for a process to go quiet after its heap grew (at
 * start, after a burst of runs) and then runs up to three full, compacting collections to give the
 * memory back. In the daemon each took 35–47 ms on the main thread, with incremental steps of up to
 * 12 ms before it, 24–33 s after every start (bench/probes/gc-pauses.mjs): a scheduled instant that
 * falls into one is claimed that much late. Without it the daemon keeps 5–7 MB more heap, and its
 * ordinary full collections (10–20 ms, at start and when the old generation fills) still run.
 * The flag is read when V8 sets up a process's heap, so it must be on the command line:
 * `v8.setFlagsFromString` is too late and NODE_OPTIONS does not take it.
 */
export const DAEMON_NODE_FLAGS: readonly string[] = ['--no-memory-reducer'];

/** Those of DAEMON_NODE_FLAGS that `execArgv` (this process's, by default) lacks. */
export function missingNodeFlags(execArgv: readonly string[] = process.execArgv): string[] {
  return DAEMON_NODE_FLAGS.filter((flag) => !execArgv.includes(flag));
}

/** `execArgv` with DAEMON_NODE_FLAGS added where missing: for a process the daemon forks. */
export function withNodeFlags(execArgv: readonly string[]): string[] {
  return [...execArgv, ...missingNodeFlags(execArgv)];
}
