/**
 * Probe: what one `GET /api/cron/jobs?limit=100` costs the daemon. Starts a daemon (from `dist/`) on
 * a fresh database with `--jobs` API jobs, lets `--clients` clients list the first page back to back
 * for `--seconds`, with one client triggering runs beside them unless `--no-trigger`, and prints
 * lists/s, p50/p99 and the daemon's CPU and minor page faults per list (from /proc, so they hold
 * on a busy machine, where latency does not). With `--discard-body` the clients count each body's
 * bytes instead of parsing it, as the scale scenario's do; with `--gzip` they ask for gzip (the body
 * they count is then the compressed one).
 *
 *   node bench/probes/list-cost.mjs --db pglite --jobs 2000 --clients 50 --seconds 10 [--discard-body] [--gzip]
 */
import { parseArgs } from 'node:util';
import { configYaml, NEVER_CRON, SCALE_CRON_SQL, TRUE_PIPELINE } from '../lib/config.mjs';
import { setDaemonNodeFlags, startDaemon } from '../lib/daemon.mjs';
import { closedLoop, closeConnections, request, token } from '../lib/http.mjs';
import { cpuSeconds, minorFaults } from '../lib/proc.mjs';
import { round, summary } from '../lib/stats.mjs';
import { createStore } from '../lib/store.mjs';

const { values } = parseArgs({
  options: {
    db: { type: 'string', default: 'pglite' },
    jobs: { type: 'string', default: '2000' },
    clients: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '10' },
    'no-trigger': { type: 'boolean', default: false },
    'discard-body': { type: 'boolean', default: false },
    gzip: { type: 'boolean', default: false },
    'daemon-flags': { type: 'string', default: '' },
  },
});
setDaemonNodeFlags(values['daemon-flags'].split(' ').filter(Boolean));
// The clients come from 51 addresses, at up to ~18,000 lists a second: the per-address limit is raised.
const yaml = configYaml({ daemon: { rateLimit: { requests: 10_000_000, per: '1m' } }, pipelines: { true: TRUE_PIPELINE }, jobs: { scale_probe: { pipeline: 'true', cron: NEVER_CRON, overlap: 'allow' } } });
const store = await createStore(values.db, process.env.DATABASE_URL ?? null);
let daemon = await startDaemon(store, yaml);
try {
  const client = await store.connect();
  await client.query(
    `INSERT INTO cw_jobs (id, name, pipeline, cron, owner, source, overlap)
     SELECT 'scale_' || lpad(i::text, 6, '0'), 'scale job ' || i, 'true', ${SCALE_CRON_SQL}, 'user_' || (i % 500), 'api', 'allow'
     FROM generate_series(1, $1::int) AS i`,
    [Number(values.jobs)],
  );
  await client.end();
  await daemon.stop();
  daemon = await startDaemon(store, yaml);
  const bearer = token();
  const path = '/api/cron/jobs?limit=100';
  const first = await request(daemon.url, 'GET', path, { bearer });
  if (first.status !== 200) throw new Error(`GET ${path} answered ${first.status}`);
  const durationMs = Number(values.seconds) * 1000;
  const cpuBefore = cpuSeconds(daemon.pid);
  const faultsBefore = minorFaults(daemon.pid);
  const ownBefore = process.cpuUsage();
  const triggers = [];
  const [lists] = await Promise.all([
    closedLoop(Number(values.clients), durationMs, (n) => request(daemon.url, 'GET', path, { bearer, client: n, discardBody: values['discard-body'], acceptEncoding: values.gzip ? 'gzip' : undefined })),
    values['no-trigger'] ? [] : closedLoop(1, durationMs, async () => {
      const res = await request(daemon.url, 'POST', '/api/cron/jobs/scale_probe/trigger', { bearer, body: {}, client: Number(values.clients) });
      triggers.push(res);
      return res;
    }),
  ]);
  const cpu = cpuSeconds(daemon.pid) - cpuBefore;
  const faults = minorFaults(daemon.pid) - faultsBefore;
  const own = process.cpuUsage(ownBefore);
  const ok = lists.filter((res) => res.status === 200);
  const stats = summary(ok.map((res) => res.ms));
  console.log(JSON.stringify({
    db: values.db, jobs: Number(values.jobs), clients: Number(values.clients), bytes: Buffer.byteLength(JSON.stringify(first.body)),
    lists: lists.length, errors: lists.length - ok.length, perSecond: round(lists.length / (durationMs / 1000)), p50: stats.p50, p99: stats.p99,
    triggers: triggers.length, daemonCpuMsPerList: round((cpu * 1000) / lists.length, 3), daemonCpuPercent: round((cpu / (durationMs / 1000)) * 100),
    daemonFaultsPerList: round(faults / lists.length, 2),
    clientsCpuPercent: round(((own.user + own.system) / 1000 / durationMs) * 100),
  }));
} finally {
  closeConnections();
  await daemon.stop();
  await store.dispose();
}
