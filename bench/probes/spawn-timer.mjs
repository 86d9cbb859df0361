// Preloaded into a benchmarked daemon (`node --import ./bench/probes/spawn-timer.mjs dist/main.js`):
// times every child_process.spawn() call — the synchronous fork+exec that blocks the event loop —
// and writes { process, calls, p50Ms, p99Ms, totalMs, rssMiB } to $CWB_SPAWN_TIMES.<pid> when the
// process exits. The daemon's spawner process inherits the preload, so the run commands' spawns
// are timed where they happen: in the spawner (or, before it existed, in the daemon). Costs about
// a microsecond per call.
import childProcess from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
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
    writeFileSync(`${out}.${process.pid}`, JSON.stringify({ process: basename(process.argv[1] ?? 'node'), calls: times.length, p50Ms: at(50), p99Ms: at(99), totalMs, rssMiB: process.memoryUsage().rss / 1048576 }));
  });
}
