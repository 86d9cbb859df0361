// Why 1,000 jobs due at once are late: the scheduler records each fire with its own statement. This
// times N fires through the daemon's own RunsRepository.fire (from dist/, one statement each, 8 at a
// time on PostgreSQL, one at a time on PGlite as the daemon's pool allows) against ONE batched
// statement for the same N fires (the fix proposed in docs/performance.md).
//   node bench/probes/fire-batching.mjs [--db pglite|postgres] [--jobs 1000]   (postgres needs DATABASE_URL)
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { configYaml, NEVER_CRON, TRUE_PIPELINE } from '../lib/config.mjs';
import { startDaemon } from '../lib/daemon.mjs';
import { createStore } from '../lib/store.mjs';

const { values } = parseArgs({ options: { db: { type: 'string', default: 'pglite' }, jobs: { type: 'string', default: '1000' } } });
const kind = values.db;
const count = Number(values.jobs);
const { RunsRepository } = await import(new URL('../../dist/runs/runs.repository.js', import.meta.url).href);

/** The proposed batched fire: the same guards and overlap decision as RunsRepository.fire, for many jobs (one instant each). */
const FIRE_MANY_SQL = `
  WITH request AS (
    SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[], $4::text[], $5::text[], $6::uuid[])
      AS q(job_id, scheduled_for, anchor_to, trigger, skip_reason, run_id)
  ), job AS (
    UPDATE cw_jobs j SET anchor_at = q.anchor_to FROM request q
    WHERE j.id = q.job_id AND j.enabled AND NOT j.paused AND (j.anchor_at IS NULL OR j.anchor_at < q.anchor_to)
    RETURNING j.id, j.overlap, j.params, q.scheduled_for, q.trigger, q.skip_reason, q.run_id
  ), active AS (
    SELECT job_id, count(*) FILTER (WHERE status = 'queued') AS queued, count(*) AS busy,
           (array_agg(id ORDER BY queued_at DESC))[1] AS latest
    FROM cw_runs WHERE job_id IN (SELECT id FROM job) AND status IN ('queued', 'running') GROUP BY job_id
  ), decision AS (
    SELECT job.*, CASE
        WHEN job.skip_reason IS NOT NULL THEN job.skip_reason
        WHEN job.overlap = 'skip' AND a.busy > 0 THEN 'overlap policy skip: run ' || a.latest || ' has not finished'
        WHEN job.overlap = 'queue' AND a.queued > 0 THEN 'overlap policy queue: run ' || a.latest || ' is already waiting'
      END AS reason
    FROM job LEFT JOIN active a ON a.job_id = job.id
  )
  INSERT INTO cw_runs AS r (id, job_id, status, trigger, scheduled_for, params, triggered_by, error, finished_at)
  SELECT d.run_id, d.id, CASE WHEN d.reason IS NULL THEN 'queued' ELSE 'skipped' END, d.trigger, d.scheduled_for,
         d.params, 'scheduler', d.reason, CASE WHEN d.reason IS NULL THEN NULL ELSE clock_timestamp() END
  FROM decision d
  ON CONFLICT (job_id, scheduled_for) WHERE trigger IN ('schedule', 'catchup') DO NOTHING
  RETURNING r.id, r.job_id, r.status`;

const ids = Array.from({ length: count }, (_, i) => `fire_${i}`);
const yaml = configYaml({
  // Runs this probe queues must stay queued: the daemon is only here for the schema and the jobs, then stopped.
  pipelines: { true: TRUE_PIPELINE },
  jobs: ids.map((id) => [id, { pipeline: 'true', cron: NEVER_CRON, overlap: 'allow' }]),
});
const store = await createStore(kind, process.env.DATABASE_URL);
let embedded = null;
const clients = [];
try {
  const daemon = await startDaemon(store, yaml);
  await daemon.stop();
  if (kind === 'pglite') {
    const { EmbeddedPostgres } = await import(new URL('../../dist/database/embedded-postgres.js', import.meta.url).href);
    embedded = await EmbeddedPostgres.start({ dataDir: store.env.CRONWARDEN_DATA_DIR, log: () => undefined });
  }
  const lanes = kind === 'pglite' ? 1 : 8;
  for (let i = 0; i < lanes; i++) clients.push(await store.connect());
  const databases = clients.map((client) => ({
    rows: async (sql, params) => (await client.query(sql, params)).rows,
    one: async (sql, params) => (await client.query(sql, params)).rows[0] ?? null,
  }));
  const repositories = databases.map((db) => new RunsRepository(db));
  const instant = (hours) => new Date(Math.floor(Date.now() / 1000) * 1000 + hours * 3_600_000);

  const one = instant(1);
  let next = 0;
  let started = performance.now();
  await Promise.all(repositories.map(async (repository) => {
    while (next < count) {
      const jobId = ids[next++];
      await repository.fire({ jobId, scheduledFor: one, anchorTo: one, trigger: 'schedule', skipReason: null });
    }
  }));
  const singleMs = performance.now() - started;

  const two = instant(2);
  started = performance.now();
  const { rowCount } = await clients[0].query(FIRE_MANY_SQL, [
    ids, ids.map(() => two), ids.map(() => two), ids.map(() => 'schedule'), ids.map(() => null), ids.map(() => randomUUID()),
  ]);
  const batchMs = performance.now() - started;
  if (rowCount !== count) throw new Error(`the batched fire recorded ${rowCount} runs, expected ${count}`);
  console.log(`${kind}: ${count} fires, one statement each (${lanes} at a time): ${Math.round(singleMs)} ms (${(singleMs / count).toFixed(2)} ms per fire)`);
  console.log(`${kind}: ${count} fires in one batched statement: ${Math.round(batchMs)} ms (${(singleMs / batchMs).toFixed(0)}× faster)`);
} finally {
  for (const client of clients) await client.end().catch(() => undefined);
  await embedded?.stop();
  await store.dispose();
}
