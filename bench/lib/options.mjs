/** Command-line options of bench/run.mjs and the sizes they select. */
import { parseArgs } from 'node:util';

export const SCENARIOS = ['lateness', 'throughput', 'flood', 'scale', 'nodes'];

export const USAGE = `Usage: node bench/run.mjs [options]   (npm run bench builds first)
  --smoke               tiny sizes, no thresholds, under a minute (what CI runs)
  --db <kinds>          pglite,postgres (default: pglite, plus postgres when DATABASE_URL is set)
  --only <scenarios>    ${SCENARIOS.join(',')} (default: all)
  --lateness-jobs <n,…> job counts due at once (default 1,1000,10000)
  --runs <n>            triggered runs for throughput and three nodes (default 2000)
  --scale-jobs <n>      jobs in the database for the scale scenario (default 100000)
  --idle-seconds <n>    idle CPU window just after the scale scenario's start (default 30; % of a core);
                        the steady window (the target) is the minute from 60 s after ready
  --flood-mib <n>       size of the single flood, MiB (default 1024)
  --out <dir>           where the JSON goes (default bench/results)
  --daemon-flags=<f>    node flags for each daemon, e.g. --daemon-flags="--cpu-prof --cpu-prof-dir=/tmp/prof"
Environment: DATABASE_URL=postgres://… adds PostgreSQL (a fresh database per scenario, dropped after).`;

const FULL = {
  latenessJobs: [1, 1000, 10_000],
  // 100: the p99 of fewer is their largest (nearest rank); the row's note gives the largest as well.
  singleJobInstants: 100,
  runs: 2000,
  statementRuns: 200,
  floodMiB: 1024,
  floodCapMiB: 10,
  floodChildren: 100,
  floodChildMiB: 10,
  scaleJobs: 100_000,
  idleSeconds: 30,
  settleSeconds: 10,
  steadySeconds: 60,
  steadyAfterSeconds: 60,
  loadClients: 50,
  loadSeconds: 15,
  // Lists before the measured ones, not counted: after a start and two idle minutes the list's code is cold.
  loadWarmupSeconds: 3,
};

const SMOKE = {
  latenessJobs: [1, 20],
  singleJobInstants: 2,
  runs: 40,
  statementRuns: 10,
  floodMiB: 16,
  floodCapMiB: 1,
  floodChildren: 4,
  floodChildMiB: 1,
  scaleJobs: 300,
  idleSeconds: 1,
  settleSeconds: 1,
  steadySeconds: 1,
  steadyAfterSeconds: 3,
  loadClients: 4,
  loadSeconds: 1,
  loadWarmupSeconds: 0,
};

/** Parses argv; returns `{ help }` or `{ smoke, kinds, scenarios, sizes, outDir, serverUrl }`. */
export function readOptions(argv, env) {
  const { values } = parseArgs({
    args: argv,
    options: {
      smoke: { type: 'boolean', default: false },
      db: { type: 'string' },
      only: { type: 'string' },
      'lateness-jobs': { type: 'string' },
      runs: { type: 'string' },
      'scale-jobs': { type: 'string' },
      'idle-seconds': { type: 'string' },
      'flood-mib': { type: 'string' },
      out: { type: 'string', default: 'bench/results' },
      'daemon-flags': { type: 'string', default: '' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return { help: true };
  const serverUrl = env.DATABASE_URL || null;
  const kinds = values.db ? list(values.db) : serverUrl ? ['pglite', 'postgres'] : ['pglite'];
  for (const kind of kinds) {
    if (!['pglite', 'postgres'].includes(kind)) throw new Error(`--db: unknown database kind "${kind}"`);
    if (kind === 'postgres' && !serverUrl) throw new Error('--db postgres needs DATABASE_URL');
  }
  const scenarios = values.only ? list(values.only) : SCENARIOS;
  for (const name of scenarios) if (!SCENARIOS.includes(name)) throw new Error(`--only: unknown scenario "${name}"`);
  const sizes = { ...(values.smoke ? SMOKE : FULL) };
  if (values['lateness-jobs']) sizes.latenessJobs = list(values['lateness-jobs']).map(positive);
  if (values.runs) sizes.runs = positive(values.runs);
  if (values['scale-jobs']) sizes.scaleJobs = positive(values['scale-jobs']);
  if (values['idle-seconds']) sizes.idleSeconds = positive(values['idle-seconds']);
  if (values['flood-mib']) sizes.floodMiB = positive(values['flood-mib']);
  const daemonFlags = values['daemon-flags'].split(' ').filter(Boolean);
  return { smoke: values.smoke, kinds, scenarios, sizes, outDir: values.out, serverUrl, daemonFlags };
}

function list(text) {
  return text.split(',').map((item) => item.trim()).filter(Boolean);
}

function positive(text) {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`expected a positive whole number, got "${text}"`);
  return value;
}
