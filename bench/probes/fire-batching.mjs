// Why the scheduler fires a tick's due jobs in batches: this times N fires through the daemon's own
// RunsRepository.fireMany (from dist/) one job per statement (8 at a time on PostgreSQL, one at a
// time on PGlite as the daemon's pool allows, as the scheduler did before) against one statement
// for all N (what it does now, in batches of 1,000). See docs/performance.md, cause 1.
//   node bench/probes/fire-batching.mjs [--db pglite|postgres] [--jobs 1000]   (postgres needs DATABASE_URL)
import { parseArgs } from 'node:util';
import { configYaml, NEVER_CRON, TRUE_PIPELINE } from '../lib/config.mjs';
import { startDaemon } from '../lib/daemon.mjs';
import { createStore } from '../lib/store.mjs';

const { values } = parseArgs({ options: { db: { type: 'string', default: 'pglite' }, jobs: { type: 'string', default: '1000' } } });
const kind = values.db;
const count = Number(values.jobs);
const { RunsRepository } = await import(new URL('../../dist/runs/runs.repository.js', import.meta.url).href);

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

  // Past instants: the fire refuses an anchor ahead of the database clock.
  const one = instant(-2);
  let next = 0;
  let started = performance.now();
  await Promise.all(repositories.map(async (repository) => {
    while (next < count) {
      const jobId = ids[next++];
      await repository.fireMany([{ jobId, scheduledFor: one, anchorTo: one, trigger: 'schedule', skipReason: null }], 2_000);
    }
  }));
  const singleMs = performance.now() - started;

  const two = instant(-1);
  started = performance.now();
  const recorded = await repositories[0].fireMany(ids.map((jobId) => ({ jobId, scheduledFor: two, anchorTo: two, trigger: 'schedule', skipReason: null })), 2_000);
  const batchMs = performance.now() - started;
  if (recorded.length !== count) throw new Error(`the batched fire recorded ${recorded.length} runs, expected ${count}`);
  console.log(`${kind}: ${count} fires, one statement each (${lanes} at a time): ${Math.round(singleMs)} ms (${(singleMs / count).toFixed(2)} ms per fire)`);
  console.log(`${kind}: ${count} fires in one batched statement: ${Math.round(batchMs)} ms (${(singleMs / batchMs).toFixed(0)}× faster)`);
} finally {
  for (const client of clients) await client.end().catch(() => undefined);
  await embedded?.stop();
  await store.dispose();
}
