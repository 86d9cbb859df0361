import pg from 'pg';
import { Database } from '../../src/database/database.js';
import { RetentionService } from '../../src/runs/retention.service.js';
import { api, createTestStore, FIXTURES, startTestDaemon, token, waitFor, type TestDaemon, type TestStore } from '../support/daemon.js';
import { testDatabaseKinds } from '../support/databases.js';

const admin = token('ops', ['admin']);
const yaml = `
daemon: { maxConcurrentRuns: 2, keepRuns: 3, keepOutputFor: 1h }
pipelines:
  ok:
    command: ["${FIXTURES}/exit-0.sh"]
jobs:
  tick: { pipeline: ok, cron: "* * * * * *", overlap: allow }
  manual: { pipeline: ok, every: 5h }
  kept: { pipeline: ok, every: 5h }
  brief: { pipeline: ok, every: 5h, keepRuns: 1 }
`;

async function metricValue(daemon: TestDaemon, pattern: RegExp): Promise<number | null> {
  const text = (await api(daemon, 'GET', '/metrics')).body as string;
  const line = text.split('\n').find((l) => pattern.test(l));
  return line ? Number(line.split(' ').pop()) : null;
}

describe.each(testDatabaseKinds())('operations on %s', (kind) => {
  let store: TestStore;
  let daemon: TestDaemon;
  beforeAll(async () => {
    store = await createTestStore(kind);
    daemon = await startTestDaemon(store, yaml);
  });
  afterAll(async () => {
    await daemon?.close();
    await store?.dispose();
  });

  it('exposes Prometheus metrics without a token: runs by status, lateness, HTTP, process', async () => {
    const { body: run } = await api(daemon, 'POST', '/api/cron/jobs/manual/trigger', { token: admin });
    await waitFor(() => metricValue(daemon, /^cronwarden_runs_finished_total\{job="manual",status="succeeded"\}/), 10_000, 'the finished counter');
    expect(run.id).toBeDefined();
    await waitFor(() => metricValue(daemon, /^cronwarden_fire_lateness_seconds_count/), 10_000, 'a lateness observation');
    const response = await api(daemon, 'GET', '/metrics');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(response.body).toMatch(/^cronwarden_runs_started_total\{job="tick",trigger="schedule"\} \d+/m);
    expect(response.body).toMatch(/^cronwarden_runs\{status="queued"\} \d+/m);
    expect(response.body).toMatch(/^cronwarden_scheduler_tick_age_seconds \d/m);
    expect(response.body).toMatch(/^cronwarden_http_request_duration_seconds_count\{method="POST",route="\/api\/cron\/jobs\/:id\/trigger",status="202"\} 1$/m);
    expect(response.body).toMatch(/^cronwarden_process_resident_memory_bytes \d+/m);
    expect(response.body).toMatch(/^cronwarden_job_last_success_timestamp_seconds\{job="manual"\} \d+/m);
  });

  it('deletes finished runs beyond keepRuns per job and output older than keepOutputFor, keeping the rest', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await api(daemon, 'POST', '/api/cron/jobs/kept/trigger', { token: admin })).body.id);
    await waitFor(async () => {
      const { body } = await api(daemon, 'GET', '/api/cron/jobs/kept/runs', { token: admin });
      return body.items.every((run: { status: string }) => run.status === 'succeeded') && body.items.length === 5;
    }, 15_000, 'five finished runs');
    const db = daemon.daemon.app.get(Database);
    const newest = ids[4];
    await db.rows(`UPDATE cw_runs SET finished_at = now() - interval '2 hours' WHERE id = $1`, [newest]);
    const result = await daemon.daemon.app.get(RetentionService).sweep();
    expect(result.runsDeleted).toBeGreaterThanOrEqual(2);
    const left = (await api(daemon, 'GET', '/api/cron/jobs/kept/runs', { token: admin })).body.items.map((run: { id: string }) => run.id);
    expect(left).toEqual([ids[4], ids[3], ids[2]]);
    expect((await api(daemon, 'GET', `/api/cron/runs/${newest}/output`, { token: admin })).body).toBe('');
    expect((await api(daemon, 'GET', `/api/cron/runs/${ids[3]}/output`, { token: admin })).body).toContain('hello from exit-0');
    expect(await metricValue(daemon, /^cronwarden_retention_deleted_total\{kind="runs"\}/)).toBeGreaterThanOrEqual(2);
  });

  it("keeps a job's own keepRuns rather than the daemon's", async () => {
    for (let i = 0; i < 3; i++) await api(daemon, 'POST', '/api/cron/jobs/brief/trigger', { token: admin });
    await waitFor(async () => {
      const { body } = await api(daemon, 'GET', '/api/cron/jobs/brief/runs', { token: admin });
      return body.items.length === 3 && body.items.every((run: { status: string }) => run.status === 'succeeded');
    }, 15_000, 'three finished runs');
    await daemon.daemon.app.get(RetentionService).sweep();
    expect((await api(daemon, 'GET', '/api/cron/jobs/brief/runs', { token: admin })).body.items).toHaveLength(1);
  });

  it('answers readiness within a second, naming the database, while every connection hangs', async () => {
    const db = daemon.daemon.app.get(Database);
    const poolSize = kind === 'pglite' ? 1 : 10;
    const hanging = Array.from({ length: poolSize }, () => db.rows('SELECT pg_sleep(3)'));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    const health = await api(daemon, 'GET', '/health');
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(health.status).toBe(503);
    expect(health.body.error.database.status).toBe('down');
    await Promise.all(hanging);
    await waitFor(async () => (await api(daemon, 'GET', '/health')).status === 200, 10_000, 'health to recover');
  });
});

// Needs a PostgreSQL server whose database can refuse connections; CI always sets DATABASE_URL.
const postgresOnly = testDatabaseKinds().filter((kind) => kind === 'postgres');
if (postgresOnly.length > 0) describe.each(postgresOnly)('readiness on %s when the database goes away', (kind) => {
  let store: TestStore;
  let daemon: TestDaemon;
  beforeAll(async () => {
    store = await createTestStore(kind);
    daemon = await startTestDaemon(store, yaml);
  });
  afterAll(async () => {
    await daemon?.close();
    await store?.dispose();
  });

  it('turns 503 naming the database, and back to 200 without a restart when it returns', async () => {
    const name = new URL(store.env.DATABASE_URL).pathname.slice(1);
    const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    try {
      await admin.query(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS false`);
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
      const down = await waitFor(async () => {
        const health = await api(daemon, 'GET', '/health');
        return health.status === 503 ? health : null;
      }, 10_000, 'health to turn 503');
      expect(down.body.error.database.status).toBe('down');
      await admin.query(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS true`);
      await waitFor(async () => (await api(daemon, 'GET', '/health')).status === 200, 15_000, 'health to recover');
    } finally {
      await admin.query(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS true`);
      await admin.end();
    }
  });
});

describe('readiness on the embedded database when an outside client changes the shared session', () => {
  let store: TestStore;
  let daemon: TestDaemon;
  beforeAll(async () => {
    store = await createTestStore('pglite');
    daemon = await startTestDaemon(store, yaml);
  });
  afterAll(async () => {
    await daemon?.close();
    await store?.dispose();
  });

  it('is not ready while the schema is invisible to the session, and ready again once that client leaves', async () => {
    const outsider = new pg.Client({ host: store.env.CRONWARDEN_DATA_DIR, port: 5432, user: 'postgres', database: 'postgres' });
    await outsider.connect();
    try {
      // What pg_dump does first; every connection to the embedded database shares this one session.
      await outsider.query(`SET search_path = ''`);
      const health = await api(daemon, 'GET', '/health');
      expect(health.status).toBe(503);
      expect(health.body.error.database.status).toBe('down');
    } finally {
      await outsider.end();
    }
    await waitFor(async () => (await api(daemon, 'GET', '/health')).status === 200, 5_000, 'health after the outsider left');
  });
});

describe('the API rate limit from the config', () => {
  let store: TestStore;
  let daemon: TestDaemon;
  beforeAll(async () => {
    store = await createTestStore('pglite');
    daemon = await startTestDaemon(store, yaml.replace('daemon: {', 'daemon: { rateLimit: { requests: 3, per: 1m },'));
  });
  afterAll(async () => {
    await daemon?.close();
    await store?.dispose();
  });

  it('answers 429 with Retry-After past the configured number of requests per window, and leaves health alone', async () => {
    for (let i = 0; i < 3; i++) expect((await api(daemon, 'GET', '/api/cron/jobs', { token: admin })).status).toBe(200);
    const limited = await api(daemon, 'GET', '/api/cron/jobs', { token: admin });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await api(daemon, 'GET', '/health/live')).status).toBe(200);
  });
});
