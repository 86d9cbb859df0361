// cronwarden's benchmark: real daemons (`node dist/main.js`) on PGlite and, with DATABASE_URL, on
// PostgreSQL, real child processes, each figure beside a baseline measured in the same run.
// Prints a table and writes bench/results/<timestamp>.json. `node bench/run.mjs --help` for options;
// `npm run bench` builds first. See docs/performance.md.
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { setDaemonNodeFlags } from './lib/daemon.mjs';
import { closeConnections } from './lib/http.mjs';
import { readOptions, SCENARIOS, USAGE } from './lib/options.mjs';
import { describeError, formatMarkdown, formatTable, judge } from './lib/report.mjs';
import { round } from './lib/stats.mjs';
import { flood } from './scenarios/flood.mjs';
import { lateness } from './scenarios/lateness.mjs';
import { nodes } from './scenarios/nodes.mjs';
import { scale } from './scenarios/scale.mjs';
import { throughput } from './scenarios/throughput.mjs';

const RUNNERS = { lateness, throughput, flood, scale, nodes };

async function main() {
  const options = readOptions(process.argv.slice(2), process.env);
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  const started = new Date();
  setDaemonNodeFlags(options.daemonFlags);
  const ctx = { ...options, log: (line) => console.error(`[bench ${elapsed(started)}] ${line}`), results: {} };
  const report = { startedAt: started.toISOString(), mode: options.smoke ? 'smoke' : 'full', code: codeVersion(), machine: machine(), databases: options.kinds, sizes: options.sizes, scenarios: {}, table: [] };
  ctx.log(`${options.smoke ? 'smoke' : 'full'} run on ${options.kinds.join(' + ')}: ${options.scenarios.join(', ')}; a page fault costs ${report.machine.pageFaultMicros} µs here`);
  let failed = false;
  for (const name of SCENARIOS) {
    if (!options.scenarios.includes(name)) {
      report.scenarios[name] = { skipped: 'not selected (--only)' };
      continue;
    }
    const scenarioStarted = Date.now();
    const loadBefore = os.loadavg()[0];
    try {
      const { result, rows } = await RUNNERS[name](ctx);
      ctx.results[name] = result;
      // Other work on the machine skews every figure: keep the 1-minute load average beside them.
      const load = { before: round(loadBefore, 2), after: round(os.loadavg()[0], 2) };
      report.scenarios[name] = { ...result, seconds: round((Date.now() - scenarioStarted) / 1000), loadAverage1m: load };
      report.table.push(...rows);
    } catch (error) {
      failed = true;
      ctx.log(`${name} failed: ${describeError(error)}`);
      report.scenarios[name] = { error: error.message, seconds: round((Date.now() - scenarioStarted) / 1000) };
    }
  }
  judge(report.table, options.smoke);
  report.finishedAt = new Date().toISOString();
  report.seconds = round((Date.now() - started.getTime()) / 1000);
  report.loadAverageAtEnd = os.loadavg().map((value) => round(value, 2));
  const file = await writeReport(options.outDir, started, report);
  console.log(formatTable(report.table));
  const missed = report.table.filter((line) => line.status === 'MISS').length;
  console.log(`\n${report.table.length} rows, ${missed} target(s) missed, ${report.seconds} s; JSON: ${file}`);
  closeConnections();
  return failed || ctx.failed ? 1 : 0;
}

function machine() {
  return {
    pageFaultMicros: pageFaultMicros(),
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryMiB: Math.round(os.totalmem() / 1024 / 1024),
    node: process.version,
    platform: `${os.type()} ${os.release()}`,
    loadAverageAtStart: os.loadavg().map((value) => round(value, 2)),
  };
}

/**
 * What first touching a page of memory costs here, in µs per 4 KiB page (zeroing included): the best
 * of three 64 MiB buffers filled once. Every fork copies page tables and faults pages in, so spawn
 * rates, and every figure made of spawns, follow it. Machines of the same kind differed tenfold
 * (0.3–0.5 µs, and 12–14 µs on a VM whose host backs guest memory lazily): compare runs only
 * where it is alike. See docs/performance.md, "Reproduce".
 */
function pageFaultMicros() {
  const bytes = 64 * 1024 * 1024;
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    Buffer.allocUnsafeSlow(bytes).fill(1);
    best = Math.min(best, performance.now() - started);
  }
  return round((best * 1000) / (bytes / 4096), 2);
}

/** Which code was measured: the commit, and whether the working tree had changes (dist/ is built from it). */
function codeVersion() {
  try {
    const git = (...args) => execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return { commit: git('rev-parse', '--short', 'HEAD'), uncommittedChanges: git('status', '--porcelain').length > 0 };
  } catch {
    return { commit: null, uncommittedChanges: null };
  }
}

async function writeReport(outDir, started, report) {
  const dir = resolve(outDir);
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${started.toISOString().replace(/[:.]/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  // The same table as Markdown beside it, to paste into docs/performance.md.
  await writeFile(file.replace(/\.json$/, '.md'), `${formatMarkdown(report.table)}\n`);
  return file;
}

function elapsed(since) {
  return `${Math.round((Date.now() - since.getTime()) / 1000)}s`;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`bench: ${error.message}`);
    process.exit(2);
  },
);
