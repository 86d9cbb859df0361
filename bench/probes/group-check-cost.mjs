/**
 * Probe: what asking whether a process group exists costs when it does not (ESRCH, the answer at
 * every run's end): Node throws an ErrnoException, whose stack trace is most of the cost. Prints
 * µs per check with the default stack trace limit and with 0 (as src/executor/process-group.ts
 * asks), twice each. Usage: node bench/probes/group-check-cost.mjs
 */
const GONE = -(2 ** 22 + 7); // a group id above any pid_max: never a live group

/** Asks whether the group exists, with the default stack trace limit or with 0. */
function check(limit0) {
  const saved = Error.stackTraceLimit;
  if (limit0) Error.stackTraceLimit = 0;
  try {
    process.kill(GONE, 0);
    return 'sent';
  } catch (error) {
    return error.code;
  } finally {
    Error.stackTraceLimit = saved;
  }
}

/** Calls `f` under `n` frames, as the check is called from deep in the executor. */
function deep(n, f) {
  return n === 0 ? f() : deep(n - 1, f);
}

const CHECKS = 100_000;
for (const limit0 of [false, true, false, true]) {
  const started = performance.now();
  for (let i = 0; i < CHECKS; i++) deep(20, () => check(limit0));
  const micros = ((performance.now() - started) * 1000) / CHECKS;
  console.log(limit0 ? 'stackTraceLimit 0' : 'default', micros.toFixed(2), 'us per check');
}
