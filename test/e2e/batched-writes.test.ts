import { Database } from '../../src/database/database.js';
import { SchedulerService } from '../../src/scheduler/scheduler.service.js';
import { api, createTestStore, dailyAt, FIXTURES, startTestDaemon, token, waitFor, type TestDaemon, type TestStore } from '../support/daemon.js';
import { testDatabaseKinds } from '../support/databases.js';

// The scheduler stages (or fires) the jobs due in a tick a thousand per statement and keeps each
// job's next fire in cw_jobs.next_fire_at; the executor finishes runs in batches. These tests hold the
// behaviour those batches must keep: every instant once per job, each run's own outcome.

const admin = token('ops', ['admin']);
const DAY = 86_400_000;
/** More than one fire statement's worth (1,000), so a tick's due jobs span two batches. */
const JOBS = 1_200;

const yaml = `
daemon:
  maxConcurrentRuns: 8
pipelines:
  ok:
    command: ["${FIXTURES}/exit-0.sh"]
  bad:
    command: ["${FIXTURES}/exit-3.sh"]
jobs:
  yearly:
    pipeline: ok
    cron: "0 0 1 1 *"
  passes:
    pipeline: ok
    cron: "0 0 1 1 *"
  fails:
    pipeline: bad
    cron: "0 0 1 1 *"
`;

describe.each(testDatabaseKinds())('batched scheduler and executor writes on %s', (kind) => {
  let store: TestStore;
  let daemon: TestDaemon;
  let instant: Date;
  const sql = <T = Record<string, unknown>>(query: string, params: unknown[] = []) => daemon.daemon.app.get(Database).rows<T>(query, params);

  beforeAll(async () => {
    store = await createTestStore(kind);
    daemon = await startTestDaemon(store, yaml);
  }, 60_000);
  afterAll(async () => {
    await daemon?.close();
    await store?.dispose();
  });
  const restart = async () => {
    await daemon.close();
    daemon = await startTestDaemon(store, yaml);
  };

  it(`fires ${JOBS} jobs due in the same second once each, every run recorded before the instant and queued from it`, async () => {
    // Jobs written by SQL reach the scheduler with its periodic sync (every 5 s): the instant is after that.
    instant = new Date(Math.ceil((Date.now() + 9_000) / 1000) * 1000);
    await sql(
      `INSERT INTO cw_jobs (id, name, pipeline, cron, owner, source, overlap)
       SELECT 'due_' || lpad(i::text, 4, '0'), 'due ' || i, 'ok', $2, 'system', 'api', 'allow' FROM generate_series(1, $1::int) AS i`,
      [JOBS, dailyAt(instant)],
    );
    const countAt = async () => Number((await sql<{ n: string }>(
      `SELECT count(*) AS n FROM cw_runs WHERE job_id LIKE 'due\\_%' AND scheduled_for = $1`, [instant]))[0].n);
    await waitFor(async () => (await countAt()) === JOBS, Math.max(instant.getTime() - Date.now(), 0) + 30_000, `${JOBS} fires`);
    // Staged by two statements, ahead of the instant: at the instant nothing was left to write.
    expect(Date.now()).toBeLessThan(instant.getTime());
    const [summary] = await sql<{ jobs: string; runs: string; triggers: string[]; statuses: string[]; times: string; early: string }>(
      `SELECT count(DISTINCT job_id) AS jobs, count(*) AS runs, array_agg(DISTINCT trigger) AS triggers,
              array_agg(DISTINCT status) AS statuses, count(DISTINCT queued_at) AS times,
              count(*) FILTER (WHERE queued_at < scheduled_for) AS early
       FROM cw_runs WHERE job_id LIKE 'due\\_%'`);
    expect(summary).toMatchObject({ jobs: JOBS, runs: JOBS, triggers: ['schedule'], early: 0 });
    expect(summary.statuses.every((status) => ['queued', 'running', 'succeeded'].includes(status))).toBe(true);
    expect(Number(summary.times)).toBe(1);
    expect((await sql<{ n: number }>(`SELECT count(*)::int AS n FROM cw_runs WHERE job_id LIKE 'due\\_%' AND queued_at = scheduled_for`))[0].n).toBe(JOBS);
    // The runs themselves are not the point here: leave the executor free for the next tests.
    await sql(`UPDATE cw_runs SET status = 'cancelled', finished_at = now() WHERE status = 'queued'`);
  }, 90_000);

  it('keeps each job\'s next fire in the database once it fired', async () => {
    await restart();
    const rows = await sql<{ id: string; next: Date | null; anchor: Date | null }>(
      `SELECT id, next_fire_at AS next, anchor_at AS anchor FROM cw_jobs WHERE id LIKE 'due\\_%'`);
    expect(rows).toHaveLength(JOBS);
    for (const row of rows) {
      expect(row.anchor?.toISOString()).toBe(instant.toISOString());
      expect(row.next?.toISOString()).toBe(new Date(instant.getTime() + DAY).toISOString());
    }
  }, 60_000);

  it('builds its heap from the stored next fire at start instead of computing the schedule', async () => {
    // A yearly job told (by SQL) that its next fire is in a few seconds: only a scheduler that reads the
    // stored value fires then; one computing from the cron would wait for January. The anchor moves in the
    // same statement, so the stopping daemon's own write of this job's next fire no longer applies.
    const soon = new Date(Math.ceil((Date.now() + 8_000) / 1000) * 1000);
    await sql(`UPDATE cw_jobs SET anchor_at = now() - interval '1 minute', next_fire_at = $2 WHERE id = $1`, ['yearly', soon]);
    await restart();
    const [run] = await waitFor(async () => {
      const { body } = await api(daemon, 'GET', '/api/cron/jobs/yearly/runs', { token: admin });
      return body.items.length > 0 ? body.items : null;
    }, 40_000, 'the fire at the stored instant');
    expect(run).toMatchObject({ trigger: 'schedule', scheduledFor: soon.toISOString() });
  }, 90_000);

  it('fires the other jobs of a batch when one job\'s run cannot be recorded', async () => {
    // A trigger refuses runs of one job (an error about that row, not the database): the batch it is in
    // fails, and the scheduler fires its jobs one by one instead of holding them all back.
    await sql(`CREATE FUNCTION test_refuse_run() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$`);
    await sql(`CREATE TRIGGER test_refuse_run BEFORE INSERT ON cw_runs FOR EACH ROW WHEN (NEW.job_id = 'fails') EXECUTE FUNCTION test_refuse_run()`);
    try {
      const soon = new Date(Math.ceil((Date.now() + 2_000) / 1000) * 1000);
      for (const id of ['passes', 'fails']) {
        await sql(`UPDATE cw_jobs SET anchor_at = now() - interval '1 minute', next_fire_at = $2 WHERE id = $1`, [id, soon]);
        await daemon.daemon.app.get(SchedulerService).reload(id);
      }
      const runsAt = (jobId: string) => sql(`SELECT id FROM cw_runs WHERE job_id = $1 AND scheduled_for = $2 AND trigger = 'schedule'`, [jobId, soon]);
      await waitFor(async () => (await runsAt('passes')).length === 1, 15_000, 'the fire of the job beside the refused one');
      expect(await runsAt('fails')).toEqual([]);
    } finally {
      await sql('DROP TRIGGER test_refuse_run ON cw_runs');
      await sql('DROP FUNCTION test_refuse_run()');
    }
  });

  it('forgets a stored next fire when the anchor or the schedule changes, whoever changes it', async () => {
    const stored = new Date(Date.now() + 3_600_000);
    const nextOf = async () => (await sql<{ next: Date | null }>(`SELECT next_fire_at AS next FROM cw_jobs WHERE id = 'passes'`))[0].next;
    const setNext = () => sql(`UPDATE cw_jobs SET next_fire_at = $1 WHERE id = 'passes'`, [stored]);
    await setNext();
    await sql(`UPDATE cw_jobs SET name = 'renamed' WHERE id = 'passes'`);
    expect(await nextOf()).toEqual(stored);
    await sql(`UPDATE cw_jobs SET anchor_at = now() WHERE id = 'passes'`);
    expect(await nextOf()).toBeNull();
    await setNext();
    await sql(`UPDATE cw_jobs SET cron = '0 0 2 1 *' WHERE id = 'passes'`);
    expect(await nextOf()).toBeNull();
    await setNext();
    await sql(`UPDATE cw_jobs SET timezone = 'Europe/Berlin' WHERE id = 'passes'`);
    expect(await nextOf()).toBeNull();
  });

  it('records each of many runs finishing at once with its own outcome and pid', async () => {
    const triggered = await Promise.all(Array.from({ length: 24 }, (_, i) => {
      const job = i % 2 === 0 ? 'passes' : 'fails';
      return api(daemon, 'POST', `/api/cron/jobs/${job}/trigger`, { token: admin }).then(({ status, body }) => {
        expect(status).toBe(202);
        return { id: body.id as string, job };
      });
    }));
    const ids = triggered.map((run) => run.id);
    const rows = await waitFor(async () => {
      const found = await sql<{ id: string; jobId: string; status: string; exitCode: number | null; pid: number | null }>(
        `SELECT id, job_id AS "jobId", status, exit_code AS "exitCode", pid FROM cw_runs WHERE id = ANY($1::uuid[])`, [ids]);
      return found.every((run) => run.status === 'succeeded' || run.status === 'failed') ? found : null;
    }, 30_000, 'the 24 runs to end');
    expect(rows).toHaveLength(24);
    for (const run of rows) {
      expect(run).toMatchObject(run.jobId === 'passes' ? { status: 'succeeded', exitCode: 0 } : { status: 'failed', exitCode: 3 });
      expect(run.pid).toEqual(expect.any(Number));
    }
  }, 60_000);
});
