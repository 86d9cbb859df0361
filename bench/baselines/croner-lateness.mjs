// croner's own timer-callback lateness in a bare Node process: `jobs` Cron instances due at the same
// instants, each callback noting how late it ran. Prints one JSON line:
//   { jobs, instants, lateMs: [...], setupMs, heapMiB }
//   node bench/baselines/croner-lateness.mjs --jobs 1000 [--instants 1]
// With --instants 1 all jobs are due once, at one whole second picked after setup time; with more,
// one per-second expression is used and that many instants are recorded per job.
import { parseArgs } from 'node:util';
import { Cron } from 'croner';

const { values } = parseArgs({ options: { jobs: { type: 'string' }, instants: { type: 'string' } } });
const jobs = Number(values.jobs ?? 1);
const instants = Number(values.instants ?? 1);
const now = () => performance.timeOrigin + performance.now();

// Setup of N instances takes time; the shared instant must come after it.
const setupGuessMs = 1500 + jobs * 0.5;
const target = Math.ceil((now() + setupGuessMs) / 1000) * 1000;
const d = new Date(target);
const expression = instants > 1 ? '* * * * * *' : `${d.getUTCSeconds()} ${d.getUTCMinutes()} ${d.getUTCHours()} * * *`;

const lateMs = [];
const expected = jobs * instants;
let resolveDone;
const done = new Promise((resolve) => (resolveDone = resolve));
const crons = [];
const setupStarted = now();
for (let i = 0; i < jobs; i++) {
  let fired = 0;
  const cron = new Cron(expression, { timezone: 'UTC' }, () => {
    const at = now();
    // Per-second: the instant is the whole second just passed (one job is never a second late).
    lateMs.push(instants === 1 ? at - target : at - Math.floor(at / 1000) * 1000);
    if (++fired >= instants) cron.stop();
    if (lateMs.length >= expected) resolveDone();
  });
  crons.push(cron);
}
const setupMs = now() - setupStarted;
if (instants === 1 && now() > target - 100) {
  process.stdout.write(`${JSON.stringify({ error: `setup took ${Math.round(setupMs)} ms, past the planned instant` })}\n`);
  process.exit(1);
}
const heapMiB = process.memoryUsage().heapUsed / 1024 / 1024;
await done;
crons.forEach((cron) => cron.stop());
process.stdout.write(`${JSON.stringify({ jobs, instants, lateMs, setupMs, heapMiB })}\n`);
