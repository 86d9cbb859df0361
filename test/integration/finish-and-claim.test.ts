import { RunsRepository, type RunFinish } from '../../src/runs/runs.repository.js';
import { testDatabaseKinds } from '../support/databases.js';
import { openMigratedDatabase, type MigratedDatabase } from '../support/migrated-database.js';

const succeeded = (): RunFinish => ({
  status: 'succeeded', finishedAt: new Date(), durationMs: 5, exitCode: 0, signal: null, error: null,
  outputBytes: 0, outputDroppedBytes: 0, outputTruncated: false, pid: 4242, processStart: null,
});

/** The executor's statement that records runs that ended and claims the next ones in the same round trip. */
describe.each(testDatabaseKinds())('finishing and claiming in one statement on %s', (kind) => {
  let migrated: MigratedDatabase;
  let runs: RunsRepository;
  const sql = <T = Record<string, unknown>>(query: string, params: unknown[] = []) => migrated.database.rows<T>(query, params);
  const addRun = async (jobId: string, status: string, queuedAt: string) =>
    (await sql<{ id: string }>(
      `INSERT INTO cw_runs (id, job_id, status, trigger, triggered_by, node_id, queued_at, started_at)
       VALUES (gen_random_uuid(), $1, $2, 'manual', 't', CASE WHEN $2 = 'running' THEN 'node-a' END, $3::timestamptz,
               CASE WHEN $2 = 'running' THEN now() END) RETURNING id`, [jobId, status, queuedAt]))[0].id;

  beforeAll(async () => {
    migrated = await openMigratedDatabase(kind);
    runs = new RunsRepository(migrated.database);
    await sql(`INSERT INTO cw_jobs (id, name, pipeline, every_ms, owner, source, overlap)
               VALUES ('one_at_a_time', 'q', 'p', 3600000, 'system', 'api', 'queue'), ('many', 'm', 'p', 3600000, 'system', 'api', 'allow')`);
  });
  afterAll(async () => {
    await migrated?.close();
  });

  it('records the finishes, then claims: the next run of a one-at-a-time job follows the one that just ended', async () => {
    const ending = await addRun('one_at_a_time', 'running', '2026-01-01T00:00:00Z');
    const next = await addRun('one_at_a_time', 'queued', '2026-01-01T00:00:01Z');
    const other = await addRun('many', 'queued', '2026-01-01T00:00:02Z');
    const reaped = await addRun('many', 'failed', '2026-01-01T00:00:03Z');

    const { ended, claimed } = await runs.endManyAndClaim([{ runId: ending, finish: succeeded() }, { runId: reaped, finish: succeeded() }], 'node-b', 5);

    // One answer per finish, in order; a run that was not running any more is left as it was.
    expect(ended).toEqual([true, false]);
    const [finished] = await sql<{ status: string; pid: number }>('SELECT status, pid FROM cw_runs WHERE id = $1', [ending]);
    expect(finished).toEqual({ status: 'succeeded', pid: 4242 });
    // The claim saw the finish: the queued run of the same job could start, with its pipeline.
    expect(claimed.map((run) => [run.id, run.status, run.nodeId, run.pipeline])).toEqual([[next, 'running', 'node-b', 'p'], [other, 'running', 'node-b', 'p']]);
    expect(claimed.every((run) => !('claimed' in run))).toBe(true);
    const [failed] = await sql<{ status: string }>('SELECT status FROM cw_runs WHERE id = $1', [reaped]);
    expect(failed.status).toBe('failed');
  });

  it('claims no more than the limit, and nothing when nothing is queued', async () => {
    const ending = await addRun('many', 'running', '2026-01-02T00:00:00Z');
    const queued = [await addRun('many', 'queued', '2026-01-02T00:00:01Z'), await addRun('many', 'queued', '2026-01-02T00:00:02Z')];
    const first = await runs.endManyAndClaim([{ runId: ending, finish: succeeded() }], 'node-b', 1);
    expect([first.ended, first.claimed.map((run) => run.id)]).toEqual([[true], [queued[0]]]);
    const again = await runs.endManyAndClaim([{ runId: queued[0], finish: succeeded() }], 'node-b', 3);
    expect(again.claimed.map((run) => run.id)).toEqual([queued[1]]);
    const last = await runs.endManyAndClaim([{ runId: queued[1], finish: succeeded() }], 'node-b', 3);
    expect([last.ended, last.claimed]).toEqual([[true], []]);
  });

  it('ends runs without their rows when only whether each ended is asked', async () => {
    const ending = await addRun('many', 'running', '2026-01-04T00:00:00Z');
    const done = await addRun('many', 'succeeded', '2026-01-04T00:00:01Z');
    expect(await runs.endMany([{ runId: done, finish: succeeded() }, { runId: ending, finish: succeeded() }])).toEqual([false, true]);
    const rows = await sql<{ id: string; status: string }>('SELECT id, status FROM cw_runs WHERE id = ANY($1::uuid[]) ORDER BY queued_at', [[ending, done]]);
    expect(rows).toEqual([{ id: ending, status: 'succeeded' }, { id: done, status: 'succeeded' }]);
  });

  it('plans a finish once per connection, not at each execution', async () => {
    // As a prepared UPDATE over the arrays, the plan cache chose a custom plan (planned anew) at every
    // execution: its estimate for a few entries always beat the generic plan's for ten.
    const ending: string[] = [];
    for (let i = 0; i < 12; i++) ending.push(await addRun('many', 'running', '2026-01-03T00:00:00Z'));
    const plans = await migrated.database.transaction(async (runner) => {
      for (const runId of ending) {
        const finished = await runs.finish(runId, succeeded(), runner);
        expect(finished?.status).toBe('succeeded');
      }
      // Prepared statements belong to the connection: read them on the one that ran the finishes.
      return (await runner.query(`SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE '%cw_finish_runs(%' AND statement LIKE '%r.job_id%' AND statement NOT LIKE '%UNION ALL%'`)) as Array<{ generic_plans: string; custom_plans: string }>;
    });
    expect(plans.map((plan) => [Number(plan.generic_plans), Number(plan.custom_plans)])).toEqual([[7, 5]]);
    // The function's own statement keeps its generic plan.
    const [fn] = await sql<{ config: string[] }>(`SELECT proconfig AS config FROM pg_proc WHERE proname = 'cw_finish_runs'`);
    expect(fn.config).toContain('plan_cache_mode=force_generic_plan');
  });
});
