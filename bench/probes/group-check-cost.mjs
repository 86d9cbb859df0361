/**
 * Probe: what asking whether a process group exists costs when it does not (ESRCH, the answer at
 * every run's end): Node throws an ErrnoException, whose stack trace is most of the cost. Prints
 * µs per check with the default stack trace limit and with 0 (as src/executor/process-group.ts
 * asks), twice each. Usage: node bench/probes/group-check-cost.mjs
 */
function check(limit0) {
  const saved = Error.stackTraceLimit;
  if (limit0) Error.stackTraceLimit = 0;
  try { process.kill(-(2 ** 22 + 7), 0); return 'sent'; } catch (e) { return e.code; } finally { Error.stackTraceLimit = saved; }
}
/** Calls `f` under `n` frames, as the check is called from deep in the executor. */
function deep(n, f) { return n === 0 ? f() : deep(n - 1, f); }
for (const limit0 of [false, true, false, true]) {
  const n = 100000; const t = performance.now();
  for (let i = 0; i < n; i++) deep(20, () => check(limit0));
  console.log(limit0 ? 'stackTraceLimit 0' : 'default', ((performance.now() - t) * 1000 / n).toFixed(2), 'us per check');
}
