// Preloaded into a benchmarked daemon (`node --import ./bench/probes/spawn-timer.mjs dist/main.js`):
// times every child_process.spawn() call — the synchronous fork+exec that blocks the event loop —
// and writes { calls, p50Ms, p99Ms, totalMs } to $CWB_SPAWN_TIMES when the daemon exits. Costs
// about a microsecond per call.
import childProcess from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

const out = process.env.CWB_SPAWN_TIMES;
if (out) {
  const original = childProcess.spawn;
  const times = [];
  childProcess.spawn = function timedSpawn(...args) {
    const started = performance.now();
    try {
      return original.apply(this, args);
    } finally {
      times.push(performance.now() - started);
    }
  };
  // `import { spawn } from 'node:child_process'` in the daemon sees the wrapper only after this.
  syncBuiltinESMExports();
  process.on('exit', () => {
    const sorted = [...times].sort((a, b) => a - b);
    const at = (p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? null;
    const totalMs = times.reduce((sum, ms) => sum + ms, 0);
    writeFileSync(out, JSON.stringify({ calls: times.length, p50Ms: at(50), p99Ms: at(99), totalMs, rssMiB: process.memoryUsage().rss / 1048576 }));
  });
}
