/**
 * Scenario 4, scale: 100,000 jobs in the database (inserted with SQL once the schema exists, weekly
 * schedules none of which is due during the bench). A first start that computes and stores their next
 * fires, then the restart measured: to ready, RSS, CPU while idle just after the start and over an
 * idle minute from a minute after it, then `GET /api/cron/jobs?limit=100` p50/p99 under 50
 * concurrent clients (autocannon) with triggers beside them, the clients asking for gzip as browsers
 * and fetch do, then asking for no encoding.
 */
import autocannon from 'autocannon';
import { configYaml, NEVER_CRON, SCALE_CRON_SQL, TRUE_PIPELINE } from '../lib/config.mjs';
import { startDaemon } from '../lib/daemon.mjs';
import { closedLoop, request, token } from '../lib/http.mjs';
import { cpuSeconds, memory } from '../lib/proc.mjs';
import { forEachKind } from '../lib/kinds.mjs';
import { failedRow, lessOrEqual, row } from '../lib/report.mjs';
import { round, summary } from '../lib/stats.mjs';
import { createStore } from '../lib/store.mjs';

const YAML = configYaml({
  // autocannon's clients all come from one address: the daemon's per-address limit (still applied to
  // every request) is raised so that it counts them without refusing any.
  daemon: { rateLimit: { requests: 10_000_000, per: '1m' } },
  pipelines: { true: TRUE_PIPELINE },
  jobs: { scale_probe: { pipeline: 'true', cron: NEVER_CRON, overlap: 'allow' } },
});
/** What Node's fetch (and so the cronwarden CLI) sends; browsers add br and zstd. */
const LIST_ENCODING = 'gzip, deflate';
/** The first jobs belong to this owner: 100 of them, a page to list when ?limit is not supported. */
const PAGE_OWNER = 'bench-owner';

export async function scale(ctx) {
  const result = { jobs: ctx.sizes.scaleJobs, idleSeconds: ctx.sizes.idleSeconds, steadySeconds: ctx.sizes.steadySeconds, clients: ctx.sizes.loadClients, databases: {} };
  const rows = [];
  const measuredByKind = await forEachKind(ctx, (kind) => {
    ctx.log(`scale: ${ctx.sizes.scaleJobs} jobs on ${kind}`);
    return onKind(ctx, kind);
  });
  ctx.kinds.forEach((kind, i) => {
    const measured = measuredByKind[i];
    result.databases[kind] = measured;
    if (measured.error) return void rows.push(failedRow('scale', kind, measured.error));
    const jobs = ctx.sizes.scaleJobs.toLocaleString('en-US');
    rows.push(row('scale', kind, `first start, ${jobs} jobs new to the scheduler`, round(measured.firstReadyMs / 1000, 2), 's', {
      note: `every next fire computed and stored; peak RSS ${measured.firstPeakMiB} MiB`,
    }));
    rows.push(row('scale', kind, `ready after start, ${jobs} jobs`, round(measured.readyMs / 1000, 2), 's', { target: lessOrEqual(10, '≤ 10 s') }));
    const sidecarNote = (measured.sidecarRssMiB === null ? '' : `; sidecar ${measured.sidecarRssMiB} MiB`) + (measured.spawnerRssMiB === null ? '' : `; spawner process ${measured.spawnerRssMiB} MiB`);
    rows.push(row('scale', kind, `daemon peak RSS, ${jobs} jobs`, measured.rssPeakMiB, 'MiB', {
      target: lessOrEqual(400, '≤ 400 MiB'),
      note: `${measured.rssMiB} MiB once ready, ${measured.rssAfterIdleMiB} MiB after the idle window${sidecarNote}`,
    }));
    rows.push(row('scale', kind, 'longest /health answer after ready', measured.afterStart.longestHealthMs, 'ms', { note: `${measured.afterStart.notReadyAnswers} of ${measured.afterStart.polls} polls not ready` }));
    const helpersNote = (cpu) => [cpu.sidecar === null ? null : `sidecar ${cpu.sidecar} %`, cpu.spawner === null ? null : `spawner process ${cpu.spawner} %`].filter(Boolean).join('; ') || null;
    const { settleSeconds, idleSeconds, steadyAfterSeconds, steadySeconds } = ctx.sizes;
    // Just after a start with many jobs, V8 collects what loading them left (its memory reducer):
    // a one-off, shown apart from the steady cost the target is about.
    rows.push(row('scale', kind, `idle CPU after start (${settleSeconds}–${settleSeconds + idleSeconds} s), % of a core`, measured.idleCpuPercent, '%', { note: helpersNote(measured.idleAfterStart) }));
    rows.push(row('scale', kind, `idle CPU, steady (${steadyAfterSeconds}–${steadyAfterSeconds + steadySeconds} s), % of a core`, measured.steadyCpuPercent, '%', { target: lessOrEqual(1, '≤ 1 %'), note: helpersNote(measured.steady) }));
    const pageNote = (list) => `${measured.listPath}, ${list.acceptEncoding ? `Accept-Encoding: ${list.acceptEncoding}` : 'no Accept-Encoding'}, ${round(list.bytesPerAnswer / 1024, 1)} kB an answer`;
    rows.push(row('scale', kind, `list p50, ${ctx.sizes.loadClients} clients`, measured.list.p50, 'ms', { note: pageNote(measured.list) }));
    rows.push(row('scale', kind, `list p99, ${ctx.sizes.loadClients} clients`, measured.list.p99, 'ms', { target: lessOrEqual(50, '≤ 50 ms'), note: pageNote(measured.list) }));
    rows.push(row('scale', kind, `list p99, ${ctx.sizes.loadClients} clients asking for no encoding`, measured.listIdentity.p99, 'ms', { note: `${pageNote(measured.listIdentity)}; p50 ${measured.listIdentity.p50} ms` }));
    rows.push(row('scale', kind, 'trigger p99 under that load', measured.trigger.p99, 'ms'));
  });
  return { result, rows };
}

async function onKind(ctx, kind) {
  const store = await createStore(kind, ctx.serverUrl);
  let daemon = null;
  try {
    // First start creates the schema; the jobs go in with one INSERT while the database is served.
    daemon = await startDaemon(store, YAML);
    const insertMs = await insertJobs(store, ctx.sizes.scaleJobs);
    await daemon.stop();
    ctx.log(`scale: ${ctx.sizes.scaleJobs} jobs inserted on ${kind} in ${Math.round(insertMs)} ms; restarting`);
    // The first start sees jobs no scheduler has seen (as after an upgrade, or rows written by hand): it
    // computes every next fire and stores it. Jobs created through the API or fired since have theirs
    // stored, so the start measured is the one after it.
    daemon = await startDaemon(store, YAML);
    const firstReadyMs = daemon.readyMs;
    const firstPeakMiB = memory(daemon.pid)?.hwmMiB ?? null;
    await daemon.stop();
    ctx.log(`scale: first start on ${kind} ready in ${Math.round(firstReadyMs)} ms; restarting`);
    daemon = await startDaemon(store, YAML);
    const readyAt = performance.now();
    ctx.log(`scale: ready on ${kind} in ${Math.round(daemon.readyMs)} ms; settling ${ctx.sizes.settleSeconds} s, idle for ${ctx.sizes.idleSeconds} s, then from ${ctx.sizes.steadyAfterSeconds} s for ${ctx.sizes.steadySeconds} s`);
    const measured = {
      insertMs: round(insertMs), firstReadyMs: round(firstReadyMs), firstPeakMiB: round(firstPeakMiB), readyMs: round(daemon.readyMs),
      ...(await idle(daemon, ctx.sizes.idleSeconds, ctx.sizes.settleSeconds)),
    };
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, readyAt + ctx.sizes.steadyAfterSeconds * 1000 - performance.now())));
    measured.steady = await idleCpu(daemon, ctx.sizes.steadySeconds);
    measured.steadyCpuPercent = measured.steady.daemon;
    const [sidecar, spawner] = [daemon.sidecarPid(), daemon.spawnerPid()];
    measured.sidecarRssMiB = sidecar ? round(memory(sidecar)?.rssMiB ?? null) : null;
    measured.spawnerRssMiB = spawner ? round(memory(spawner)?.rssMiB ?? null) : null;
    // The clients ask for gzip, as browsers, fetch and the cronwarden CLI do; then once more asking
    // for no encoding (the JSON as it is, 20 times the bytes: docs/performance.md, item 52). A few
    // seconds of lists go first, not counted: the first pass read 3 ms more at p99 than the second,
    // whichever encoding it asked for (item 53).
    if (ctx.sizes.loadWarmupSeconds > 0) await underLoad(daemon, ctx.sizes.loadClients, ctx.sizes.loadWarmupSeconds * 1000, LIST_ENCODING);
    Object.assign(measured, await underLoad(daemon, ctx.sizes.loadClients, ctx.sizes.loadSeconds * 1000, LIST_ENCODING));
    measured.listIdentity = (await underLoad(daemon, ctx.sizes.loadClients, ctx.sizes.loadSeconds * 1000, null)).list;
    measured.rssAfterLoadMiB = round(memory(daemon.pid)?.rssMiB ?? null);
    return measured;
  } catch (error) {
    if (daemon) error.message += `\n--- daemon log ---\n${await daemon.logTail()}`;
    throw error;
  } finally {
    await daemon?.stop();
    await store.dispose();
  }
}

/** `count` API jobs on /bin/true on weekly schedules that do not fire during the bench (see scaleCron). */
async function insertJobs(store, count) {
  const client = await store.connect();
  try {
    const started = performance.now();
    await client.query(
      `INSERT INTO cw_jobs (id, name, pipeline, cron, owner, source, overlap)
       SELECT 'scale_' || lpad(i::text, 6, '0'), 'scale job ' || i, 'true',
              ${SCALE_CRON_SQL},
              CASE WHEN i <= 100 THEN $2 ELSE 'user_' || (i % 500) END, 'api', 'allow'
       FROM generate_series(1, $1::int) AS i`,
      [count, PAGE_OWNER],
    );
    return performance.now() - started;
  } finally {
    await client.end();
  }
}

/**
 * After start: for `settleSeconds`, polls readiness twice a second (the longest answer shows how
 * long the event loop was blocked, the 503s how long it said not-ready); then RSS, and CPU used
 * over `seconds` of doing nothing, for the daemon and its sidecar.
 */
async function idle(daemon, seconds, settleSeconds) {
  const settle = [];
  for (const until = performance.now() + settleSeconds * 1000; performance.now() < until;) {
    settle.push(await request(daemon.url, 'GET', '/health'));
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const rssMiB = round(memory(daemon.pid).rssMiB);
  const cpu = await idleCpu(daemon, seconds);
  const after = memory(daemon.pid);
  return {
    afterStart: { longestHealthMs: round(Math.max(...settle.map((res) => res.ms))), notReadyAnswers: settle.filter((res) => res.status !== 200).length, polls: settle.length },
    rssMiB,
    rssAfterIdleMiB: round(after.rssMiB),
    // The peak since the process started: what the machine must have for it, and what each fork copies at worst.
    rssPeakMiB: round(after.hwmMiB),
    idleAfterStart: cpu,
    idleCpuPercent: cpu.daemon,
  };
}

/** CPU used over `seconds` of doing nothing, % of one core: the daemon, its sidecar and its spawner process. */
async function idleCpu(daemon, seconds) {
  const [sidecar, spawner] = [daemon.sidecarPid(), daemon.spawnerPid()];
  const before = { daemon: cpuSeconds(daemon.pid), sidecar: sidecar ? cpuSeconds(sidecar) : null, spawner: spawner ? cpuSeconds(spawner) : null, at: performance.now() };
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const wall = (performance.now() - before.at) / 1000;
  const percent = (pid, start) => round(((cpuSeconds(pid) - start) / wall) * 100, 2);
  return {
    daemon: percent(daemon.pid, before.daemon),
    sidecar: sidecar ? percent(sidecar, before.sidecar) : null,
    spawner: spawner ? percent(spawner, before.spawner) : null,
  };
}

/**
 * `clients` connections listing a page of jobs back to back for `durationMs` (autocannon, which
 * counts the bodies and parses none; with `acceptEncoding` as their Accept-Encoding), and one client
 * triggering a run after another beside them.
 * Uses `?limit=100` when the API accepts it, else a filter that returns the 100 jobs of one owner
 * (and says so).
 */
async function underLoad(daemon, clients, durationMs, acceptEncoding) {
  const bearer = token();
  const probe = await request(daemon.url, 'GET', '/api/cron/jobs?limit=100', { bearer });
  const listPath = probe.status === 200 ? '/api/cron/jobs?limit=100' : `/api/cron/jobs?owner=${PAGE_OWNER}`;
  const listed = probe.status === 200 ? probe : await request(daemon.url, 'GET', listPath, { bearer });
  if (listed.status !== 200) throw new Error(`GET ${listPath} answered ${listed.status}`);
  const triggerSamples = [];
  const [lists] = await Promise.all([
    // Our own Node http client took 0.2-0.3 ms of CPU per request, on the two cores the daemon runs
    // on, and its queueing showed in the p99 (docs/performance.md, item 47).
    autocannon({
      url: `${daemon.url}${listPath}`, connections: clients, duration: durationMs / 1000,
      headers: { authorization: `Bearer ${bearer}`, ...(acceptEncoding ? { 'accept-encoding': acceptEncoding } : {}) },
    }),
    closedLoop(1, durationMs, async () => {
      const res = await request(daemon.url, 'POST', '/api/cron/jobs/scale_probe/trigger', { bearer, body: {}, client: clients });
      triggerSamples.push(res);
      return res;
    }),
  ]);
  const statuses = Object.fromEntries(Object.entries(lists.statusCodeStats ?? {}).map(([status, { count }]) => [status, count]));
  const failed = lists.errors + lists.timeouts;
  if (failed > 0) statuses.failed = failed;
  return {
    listPath: probe.status === 200 ? listPath : `${listPath} (?limit=100 answered ${probe.status})`,
    listItems: Array.isArray(listed.body) ? listed.body.length : listed.body?.items?.length ?? null,
    list: {
      n: lists.requests.total, p50: lists.latency.p50, p99: lists.latency.p99, max: lists.latency.max,
      errors: lists.non2xx + failed, statuses, perSecond: round(lists.requests.total / lists.duration),
      client: 'autocannon', acceptEncoding, bytesPerAnswer: lists.requests.total ? Math.round(lists.throughput.total / lists.requests.total) : null,
    },
    trigger: { ...summary(triggerSamples.filter((res) => res.status === 202).map((res) => res.ms)), errors: triggerSamples.filter((res) => res.status !== 202).length },
  };
}
