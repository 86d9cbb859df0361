import { Database } from '../../src/database/database.js';
import { api, createTestStore, FIXTURES, startTestDaemon, token, type TestDaemon, type TestStore } from '../support/daemon.js';
import { testDatabaseKinds } from '../support/databases.js';

const admin = token('ops', ['admin']);
const alice = token('alice', ['user']);
const bob = token('bob', ['user']);

/** percentile_cont: linear interpolation between the closest ranks. */
function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = fraction * (sorted.length - 1);
  const low = Math.floor(rank);
  return sorted[low] + (sorted[Math.min(low + 1, sorted.length - 1)] - sorted[low]) * (rank - low);
}

// Run i (1 = newest): every 10th failed, i = 5, 25, 45, … skipped, the rest succeeded; 50 older failed runs lie outside the window.
const statusOf = (i: number) => (i > 100 || i % 10 === 0 ? 'failed' : i % 20 === 5 ? 'skipped' : 'succeeded');

describe.each(testDatabaseKinds())('run statistics on %s', (kind) => {
  let store: TestStore;
  let daemon: TestDaemon;
  let db: Database;

  beforeAll(async () => {
    store = await createTestStore(kind);
    daemon = await startTestDaemon(store, `pipelines:\n  ok:\n    command: ["${FIXTURES}/exit-0.sh"]\n`);
    db = daemon.daemon.app.get(Database);
    for (const [id, as] of [['steady', alice], ['idle', alice], ['busy', bob]] as const) {
      expect((await api(daemon, 'POST', '/api/cron/jobs', { token: as, body: { id, pipeline: 'ok', every: '7d' } })).status).toBe(201);
    }
    await db.rows(
      `INSERT INTO cw_runs (id, job_id, status, trigger, scheduled_for, queued_at, started_at, finished_at, duration_ms)
       SELECT gen_random_uuid(), 'steady', s.status, 'schedule', t.at, t.at,
              CASE WHEN s.status = 'skipped' THEN NULL ELSE t.at + (i % 4) * interval '1 second' END,
              t.at + interval '1 minute', CASE WHEN s.status = 'skipped' THEN NULL ELSE i * 10 END
       FROM generate_series(1, 150) AS i
       CROSS JOIN LATERAL (SELECT now() - i * interval '1 hour' AS at) t
       CROSS JOIN LATERAL (SELECT CASE WHEN i > 100 OR i % 10 = 0 THEN 'failed' WHEN i % 20 = 5 THEN 'skipped' ELSE 'succeeded' END AS status) s`,
    );
  });
  afterAll(async () => {
    await daemon?.close();
    await store?.dispose();
  });

  const window = Array.from({ length: 100 }, (_, k) => k + 1);
  const ran = window.filter((i) => statusOf(i) !== 'skipped');

  it("gives a job's statistics over its latest 100 runs with the job", async () => {
    const { body } = await api(daemon, 'GET', '/api/cron/jobs/steady', { token: alice });
    expect(body.stats).toEqual({
      runs: 100,
      byStatus: { queued: 0, running: 0, succeeded: 85, failed: 10, timed_out: 0, cancelled: 0, abandoned: 0, skipped: 5 },
      successRate: Math.round((85 / 95) * 10_000) / 10_000,
      durationMs: { p50: Math.round(percentile(ran.map((i) => i * 10), 0.5)), p95: Math.round(percentile(ran.map((i) => i * 10), 0.95)) },
      meanLatenessMs: Math.round(ran.reduce((sum, i) => sum + (i % 4) * 1000, 0) / ran.length),
    });
    const idle = await api(daemon, 'GET', '/api/cron/jobs/idle', { token: alice });
    expect(idle.body.stats).toMatchObject({ runs: 0, successRate: null, durationMs: null, meanLatenessMs: null });
  });

  it('gives statistics per visible job and in total', async () => {
    const { status, body } = await api(daemon, 'GET', '/api/cron/stats', { token: alice });
    expect(status).toBe(200);
    expect(body.jobs.map((job: { jobId: string }) => job.jobId)).toEqual(['idle', 'steady']);
    expect(body.total).toMatchObject({ runs: 100, byStatus: expect.objectContaining({ succeeded: 85 }) });
    const forBob = await api(daemon, 'GET', '/api/cron/stats', { token: bob });
    expect(forBob.body).toMatchObject({ jobs: [{ jobId: 'busy', runs: 0 }], total: { runs: 0 } });
    const forAdmin = await api(daemon, 'GET', '/api/cron/stats', { token: admin });
    expect(forAdmin.body.jobs).toHaveLength(3);
  });

  it('pages the statistics in job id order with limit and cursor, each job as in the whole overview, without a total', async () => {
    const whole = await api(daemon, 'GET', '/api/cron/stats', { token: admin });
    const first = await api(daemon, 'GET', '/api/cron/stats?limit=2', { token: admin });
    expect(first.status).toBe(200);
    expect(first.body.items.map((job: { jobId: string }) => job.jobId)).toEqual(['busy', 'idle']);
    expect(first.body.total).toBeUndefined();
    const second = await api(daemon, 'GET', `/api/cron/stats?limit=2&cursor=${first.body.nextCursor}`, { token: admin });
    expect(second.body).toEqual({ items: [whole.body.jobs.find((job: { jobId: string }) => job.jobId === 'steady')], nextCursor: null });
    expect([...first.body.items, ...second.body.items]).toEqual(whole.body.jobs);

    // A user's pages hold only the jobs it may see.
    const forAlice = await api(daemon, 'GET', '/api/cron/stats?limit=1', { token: alice });
    expect(forAlice.body.items.map((job: { jobId: string }) => job.jobId)).toEqual(['idle']);
    const rest = await api(daemon, 'GET', `/api/cron/stats?cursor=${forAlice.body.nextCursor}`, { token: alice });
    expect(rest.body).toMatchObject({ items: [{ jobId: 'steady', runs: 100 }], nextCursor: null });

    const bad = await api(daemon, 'GET', '/api/cron/stats?cursor=not-a-cursor', { token: admin });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/cursor/);
    expect((await api(daemon, 'GET', '/api/cron/stats?limit=0', { token: admin })).status).toBe(400);
  });

  it('reads only the latest runs of each job with 100,000 runs in the history', async () => {
    // How long it takes is for `npm run bench` to say, not a timed test: this one holds the bound on what is read.
    await db.rows(
      `INSERT INTO cw_runs (id, job_id, status, trigger, scheduled_for, queued_at, started_at, finished_at, duration_ms)
       SELECT gen_random_uuid(), 'busy', 'succeeded', 'manual', t.at, t.at, t.at, t.at + interval '1 second', 1000
       FROM generate_series(1, 100000) AS i CROSS JOIN LATERAL (SELECT now() - i * interval '1 second' AS at) t`,
    );
    const overview = await api(daemon, 'GET', '/api/cron/stats', { token: admin });
    const job = await api(daemon, 'GET', '/api/cron/jobs/busy', { token: admin });
    expect(overview.body.total.runs).toBe(200);
    expect(job.body.stats).toMatchObject({ runs: 100, successRate: 1, durationMs: { p50: 1000, p95: 1000 } });
  });
});
