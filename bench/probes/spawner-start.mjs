/**
 * Probe: what starting a command costs the machine through the daemon's spawner process, with
 * cronwarden-exec (posix_spawn) and with Node's spawn() in turn (from `dist/`, so `npm run build`
 * first): `--commands` `/bin/true` at `--concurrency` in flight through ForkedSpawner and
 * ProcessRunner (no daemon, no database), beside raw spawn() from this process, `--rounds` times
 * each. Prints per way: commands a second and the machine's CPU per command (all cores, from
 * /proc/stat), best and worst round. Usage:
 *   node bench/probes/spawner-start.mjs [--commands 1000] [--concurrency 8] [--rounds 3]
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { ProcessRunner } from '../../dist/executor/process-runner.js';
import { EXEC_HELPER, ForkedSpawner } from '../../dist/executor/spawner.js';
import { machineTicks, ticksPerSecond } from '../lib/proc.mjs';
import { round } from '../lib/stats.mjs';

const { values } = parseArgs({ options: { commands: { type: 'string', default: '1000' }, concurrency: { type: 'string', default: '8' }, rounds: { type: 'string', default: '3' } } });
const commands = Number(values.commands);
const concurrency = Number(values.concurrency);

async function inFlight(startOne) {
  let next = 0;
  const worker = async () => {
    while (next < commands) {
      next++;
      await startOne();
    }
  };
  const ticks = machineTicks();
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  return { perSecond: commands / seconds, cpuMsPerCommand: ((machineTicks().busy - ticks.busy) / ticksPerSecond() / commands) * 1000 };
}

const spec = { command: ['/bin/true'], shell: false, cwd: '/', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, timeoutMs: 0, killGraceMs: 1000, maxOutputBytes: 1024 };
const rawSpawn = () => new Promise((resolve, reject) => {
  const child = spawn('/bin/true', [], { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: spec.env });
  child.stdout.resume();
  child.stderr.resume();
  child.once('error', reject).once('close', resolve);
});

const ways = {
  'spawner process, cronwarden-exec': new ForkedSpawner(1, EXEC_HELPER),
  "spawner process, Node's spawn()": new ForkedSpawner(1, null),
};
const results = {};
for (let roundIndex = 0; roundIndex < Number(values.rounds); roundIndex++) {
  for (const [way, spawner] of Object.entries(ways)) {
    const runner = new ProcessRunner(spawner);
    await runner.run(spec);
    (results[way] ??= []).push(await inFlight(() => runner.run(spec)));
  }
  (results['raw spawn() from this process'] ??= []).push(await inFlight(rawSpawn));
}
Object.values(ways).forEach((spawner) => spawner.onApplicationShutdown());
const range = (list, key) => [round(Math.min(...list.map((r) => r[key])), 2), round(Math.max(...list.map((r) => r[key])), 2)];
console.log(JSON.stringify({ commands, concurrency, ways: Object.fromEntries(Object.entries(results).map(([way, list]) => [way, { perSecond: range(list, 'perSecond'), cpuMsPerCommand: range(list, 'cpuMsPerCommand') }])) }, null, 1));
