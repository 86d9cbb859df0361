import { testDatabaseKinds } from '../support/databases.js';
import { openMigratedDatabase, type MigratedDatabase } from '../support/migrated-database.js';

type Plan = { 'Shared Hit Blocks': number; 'Shared Read Blocks': number; 'Actual Rows': number };

/** Queued runs in a table the planner has no statistics for: a new database, or the embedded one (it never analyses). */
const QUEUED = 20_000;

describe.each(testDatabaseKinds())('a claim on %s', (kind) => {
  let migrated: MigratedDatabase;

  beforeAll(async () => {
    migrated = await openMigratedDatabase(kind);
    const db = migrated.database;
    await db.rows(`INSERT INTO cw_jobs (id, name, pipeline, every_ms, owner, source) VALUES ('busy', 'busy', 'main', 3600000, 'system', 'api')`);
    await db.rows(
      `INSERT INTO cw_runs (id, job_id, status, trigger, params, triggered_by, queued_at)
       SELECT gen_random_uuid(), 'busy', 'queued', 'manual', '{}', 'test', now() - make_interval(secs => $1::int - i)
       FROM generate_series(1, $1::int) AS i`,
      [QUEUED],
    );
  });
  afterAll(async () => {
    await migrated?.close();
  });

  it('reads the oldest queued runs from the index, not every queued run, with no statistics', async () => {
    const runner = migrated.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      const claim = async (n: number) => {
        const [row] = await runner.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT * FROM cw_claim_runs('node-a', ${n})`);
        return (row['QUERY PLAN'] as Array<{ Plan: Plan }>)[0].Plan;
      };
      // The session's first call also reads the catalog to plan the function's statement.
      expect((await claim(1))['Actual Rows']).toBe(1);
      const plan = await claim(1);
      expect(plan['Actual Rows']).toBe(1);
      // A few dozen index, heap and catalog pages (42 here); sorting every queued run reads all of the table's (445).
      expect(plan['Shared Hit Blocks'] + plan['Shared Read Blocks']).toBeLessThan(100);
      const oldest = await runner.query(`SELECT id FROM cw_runs WHERE status = 'running' ORDER BY queued_at`);
      const expected = await runner.query(`SELECT id FROM cw_runs ORDER BY queued_at, id LIMIT 2`);
      expect(oldest).toEqual(expected);
    } finally {
      await runner.rollbackTransaction().catch(() => undefined);
      await runner.release();
    }
  });
});

describe.each(testDatabaseKinds())('a claim among staged runs on %s', (kind) => {
  let migrated: MigratedDatabase;

  beforeAll(async () => {
    migrated = await openMigratedDatabase(kind);
    const db = migrated.database;
    await db.rows(`INSERT INTO cw_jobs (id, name, pipeline, every_ms, owner, source) VALUES ('later', 'later', 'main', 3600000, 'system', 'api')`);
    // Runs staged for instants still ahead (RunsRepository.stageMany): queued from their instants on.
    await db.rows(
      `INSERT INTO cw_runs (id, job_id, status, trigger, scheduled_for, not_before, params, triggered_by, queued_at)
       SELECT gen_random_uuid(), 'later', 'queued', 'schedule', t, t, '{}', 'scheduler', t
       FROM generate_series(1, $1::int) AS i, LATERAL (SELECT now() + make_interval(hours => 1, secs => i)) AS s(t)`,
      [QUEUED],
    );
  });
  afterAll(async () => {
    await migrated?.close();
  });

  it('takes none of them before their instants, and stops reading where they begin', async () => {
    const runner = migrated.dataSource.createQueryRunner();
    await runner.connect();
    try {
      const claim = async () => {
        const [row] = await runner.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT * FROM cw_claim_runs('node-a', 8)`);
        return (row['QUERY PLAN'] as Array<{ Plan: Plan }>)[0].Plan;
      };
      await claim();
      const plan = await claim();
      expect(plan['Actual Rows']).toBe(0);
      // Reading on through every staged run to look for a claimable one costs a few hundred pages.
      expect(plan['Shared Hit Blocks'] + plan['Shared Read Blocks']).toBeLessThan(100);
    } finally {
      await runner.release();
    }
  });
});
