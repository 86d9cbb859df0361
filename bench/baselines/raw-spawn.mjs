// The machine's own limit for starting children: `count` spawns of /bin/true, `concurrency` in flight,
// from a bare Node process (small heap, like the daemon should be). Prints one JSON line:
//   { count, concurrency, totalMs, lastStartMs, perSecond, spawnCallP50Ms }
//   node bench/baselines/raw-spawn.mjs --count 2000 --concurrency 8 [--warmup 500]
// `lastStartMs` is when the last child was spawned: the floor for "the last child starts" in the
// fire-lateness scenario. Children are spawned like the daemon spawns them (own group, pipes).
// With `--warmup N`, N children are spawned first and not counted, as a warm daemon is measured.
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { count: { type: 'string' }, concurrency: { type: 'string' }, warmup: { type: 'string' } } });
const count = Number(values.count ?? 2000);
const concurrency = Number(values.concurrency ?? 8);
const warmup = Number(values.warmup ?? 0);

const callMs = [];

function runOne() {
  return new Promise((resolve, reject) => {
    const called = performance.now();
    const child = spawn('/bin/true', [], { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH } });
    callMs.push(performance.now() - called);
    child.stdout.resume();
    child.stderr.resume();
    child.once('error', reject);
    child.once('close', resolve);
  });
}

/** Spawns `total` children, `concurrency` at a time; resolves when all have closed. */
async function spawnAll(total, onStart = () => undefined) {
  let next = 0;
  const worker = async () => {
    while (next < total) {
      next++;
      onStart();
      await runOne();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
}

await spawnAll(warmup);
callMs.length = 0;
const started = performance.now();
let lastStartMs = 0;
await spawnAll(count, () => (lastStartMs = performance.now() - started));
const totalMs = performance.now() - started;
const spawnCallP50Ms = callMs.sort((a, b) => a - b)[Math.floor(callMs.length / 2)];
process.stdout.write(`${JSON.stringify({ count, concurrency, totalMs, lastStartMs, perSecond: (count / totalMs) * 1000, spawnCallP50Ms })}\n`);
