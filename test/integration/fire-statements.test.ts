import { RunsRepository } from '../../src/runs/runs.repository.js';
import { testDatabaseKinds } from '../support/databases.js';
import { openMigratedDatabase, type MigratedDatabase } from '../support/migrated-database.js';

/** The scheduler's two statements, on their own: staging ahead of an instant, and firing at it. */
describe.each(testDatabaseKinds())('the fire statements on %s', (kind) => {
  let migrated: MigratedDatabase;
  let runs: RunsRepository;
  const sql = <T = Record<string, unknown>>(query: string, params: unknown[] = []) => migrated.database.rows<T>(query, params);
  const addJobs = (prefix: string, count: number, overlap = 'skip') =>
    sql(
      `INSERT INTO cw_jobs (id, name, pipeline, every_ms, owner, source, overlap)
       SELECT $1 || i, $1 || i, 'p', 3600000, 'system', 'api', $3 FROM generate_series(1, $2::int) AS i`,
      [prefix, count, overlap],
    );
  const soon = (ms: number) => new Date(Math.ceil((Date.now() + ms) / 1000) * 1000);

  beforeAll(async () => {
    migrated = await openMigratedDatabase(kind);
    runs = new RunsRepository(migrated.database);
  });
  afterAll(async () => {
    await migrated?.close();
  });

  it('fires a thousand jobs in one statement, each run recorded at its own insert time', async () => {
    await addJobs('fire_', 1_000);
    const instant = new Date(Date.now() - 100);
    const fired = await runs.fireMany(
      Array.from({ length: 1_000 }, (_, i) => ({ jobId: `fire_${i + 1}`, scheduledFor: instant, anchorTo: instant, trigger: 'schedule' as const, skipReason: null })),
      2_000,
    );
    expect(fired).toHaveLength(1_000);
    // Not one time per statement: the last row says how late it was written.
    expect(new Set(fired.map((run) => run.queuedAt.getTime())).size).toBeGreaterThan(2);
  });

  it('stages runs queued from their due time, declines busy jobs unless they allow overlap, and stages each instant once', async () => {
    await addJobs('idle_', 3);
    await addJobs('busy_', 2);
    await addJobs('allow_', 1, 'allow');
    await sql(`UPDATE cw_jobs SET paused = true WHERE id = 'idle_3'`);
    await sql(`INSERT INTO cw_runs (id, job_id, status, trigger, triggered_by) VALUES (gen_random_uuid(), 'busy_1', 'running', 'manual', 't'),
                 (gen_random_uuid(), 'busy_2', 'queued', 'manual', 't'), (gen_random_uuid(), 'allow_1', 'running', 'manual', 't')`);
    const instant = soon(1_500);
    const jittered = new Date(instant.getTime() + 250);
    const request = (jobId: string, dueAt = instant) => ({ jobId, scheduledFor: instant, dueAt });
    const results = await runs.stageMany([request('idle_1'), request('idle_2', jittered), request('idle_3'), request('busy_1'), request('busy_2'), request('allow_1')], 3_000);
    const byJob = Object.fromEntries(results.map((result) => [result.jobId, result.runId === null ? 'declined' : 'staged']));
    // The paused job is neither: like a fire, staging leaves it.
    expect(byJob).toEqual({ idle_1: 'staged', idle_2: 'staged', busy_1: 'declined', busy_2: 'declined', allow_1: 'staged' });
    const staged = await sql<{ job_id: string; queued_at: Date; not_before: Date; anchor_at: Date }>(
      `SELECT r.job_id, r.queued_at, r.not_before, j.anchor_at FROM cw_runs r JOIN cw_jobs j ON j.id = r.job_id
       WHERE r.trigger = 'schedule' AND r.scheduled_for = $1 ORDER BY r.job_id`, [instant]);
    expect(staged.map((run) => [run.job_id, run.queued_at.getTime(), run.not_before.getTime(), run.anchor_at.getTime()])).toEqual([
      ['allow_1', instant.getTime(), instant.getTime(), instant.getTime()],
      ['idle_1', instant.getTime(), instant.getTime(), instant.getTime()],
      ['idle_2', jittered.getTime(), jittered.getTime(), instant.getTime()],
    ]);
    // The declined jobs' anchors did not move: the fire at the instant decides for them.
    expect(await sql(`SELECT id, anchor_at FROM cw_jobs WHERE id LIKE 'busy_%' ORDER BY id`)).toEqual([{ id: 'busy_1', anchor_at: null }, { id: 'busy_2', anchor_at: null }]);
    // Another node staging the same instant gets nothing: not staged, not declined.
    expect(await runs.stageMany([request('idle_1'), request('allow_1')], 3_000)).toEqual([]);
    // Nor does a fire at the instant.
    expect(await runs.fireMany([{ jobId: 'idle_1', scheduledFor: instant, anchorTo: instant, trigger: 'schedule', skipReason: null }], 3_000)).toEqual([]);
  });

  it('stages nothing further ahead than it is told', async () => {
    await addJobs('far_', 1);
    const instant = soon(10_000);
    expect(await runs.stageMany([{ jobId: 'far_1', scheduledFor: instant, dueAt: instant }], 2_000)).toEqual([]);
    expect(await sql(`SELECT anchor_at FROM cw_jobs WHERE id = 'far_1'`)).toEqual([{ anchor_at: null }]);
  });

  it('records a run staged after its due time as queued when it was written', async () => {
    await addJobs('late_', 1);
    const instant = new Date(Date.now() - 1_000);
    const [result] = await runs.stageMany([{ jobId: 'late_1', scheduledFor: instant, dueAt: instant }], 2_000);
    expect(result.runId).not.toBeNull();
    const [run] = await sql<{ queued_at: Date }>(`SELECT queued_at FROM cw_runs WHERE id = $1`, [result.runId]);
    expect(run.queued_at.getTime()).toBeGreaterThan(instant.getTime() + 900);
  });

  it('undoes a staged run when its job changes before the instant: the run is gone, the anchor back before the instant', async () => {
    await addJobs('undo_every_', 1);
    await sql(`INSERT INTO cw_jobs (id, name, pipeline, cron, owner, source) VALUES ('undo_cron_1', 'c', 'p', '*/3 * * * * *', 'system', 'api'),
                 ('undo_cron_2', 'c', 'p', '*/3 * * * * *', 'system', 'api')`);
    const instant = soon(1_500);
    const staged = await runs.stageMany(['undo_every_1', 'undo_cron_1', 'undo_cron_2'].map((jobId) => ({ jobId, scheduledFor: instant, dueAt: instant })), 3_000);
    expect(staged.filter((result) => result.runId !== null)).toHaveLength(3);
    await sql(`UPDATE cw_jobs SET next_fire_at = $1::timestamptz + interval '1 hour' WHERE id LIKE 'undo_%'`, [instant]);

    // Paused (an interval job: back one interval; a cron job: back a millisecond, no instant lies between).
    await sql(`UPDATE cw_jobs SET paused = true WHERE id IN ('undo_every_1', 'undo_cron_1')`);
    // The schedule changed by a statement that leaves the anchor (the config file's upsert does).
    await sql(`UPDATE cw_jobs SET cron = '*/5 * * * * *' WHERE id = 'undo_cron_2'`);
    expect(await sql(`SELECT count(*)::int AS n FROM cw_runs WHERE job_id LIKE 'undo_%'`)).toEqual([{ n: 0 }]);
    const anchors = await sql<{ id: string; anchor_at: Date; next_fire_at: Date | null }>(`SELECT id, anchor_at, next_fire_at FROM cw_jobs WHERE id LIKE 'undo_%' ORDER BY id`);
    expect(anchors.map((job) => [job.id, instant.getTime() - job.anchor_at.getTime(), job.next_fire_at])).toEqual([
      ['undo_cron_1', 1, null],
      ['undo_cron_2', 1, null],
      ['undo_every_1', 3_600_000, null],
    ]);
  });

  it('leaves the anchor a change sets itself, and a run no longer ahead of its instant', async () => {
    await addJobs('keep_', 2);
    const instant = soon(1_500);
    await runs.stageMany([{ jobId: 'keep_1', scheduledFor: instant, dueAt: instant }], 3_000);
    // An API schedule change counts from now: it sets the anchor, and the staged run still goes.
    const [{ now }] = await sql<{ now: Date }>(`UPDATE cw_jobs SET every_ms = 60000, anchor_at = now() WHERE id = 'keep_1' RETURNING now() AS now`);
    expect(await sql(`SELECT count(*)::int AS n FROM cw_runs WHERE job_id = 'keep_1'`)).toEqual([{ n: 0 }]);
    expect(await sql(`SELECT anchor_at FROM cw_jobs WHERE id = 'keep_1'`)).toEqual([{ anchor_at: now }]);
    // A run past its instant is an ordinary queued run: pausing leaves it (and the anchor) be.
    const past = new Date(Date.now() - 1_000);
    await runs.stageMany([{ jobId: 'keep_2', scheduledFor: past, dueAt: past }], 3_000);
    await sql(`UPDATE cw_jobs SET paused = true WHERE id = 'keep_2'`);
    expect(await sql(`SELECT r.status, j.anchor_at FROM cw_runs r JOIN cw_jobs j ON j.id = r.job_id WHERE r.job_id = 'keep_2'`)).toEqual([{ status: 'queued', anchor_at: past }]);
  });
});
