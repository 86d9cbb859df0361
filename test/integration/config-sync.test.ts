import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Logger } from '@nestjs/common';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from '../../src/audit/audit-log.js';
import { AuditRepository } from '../../src/audit/audit.repository.js';
import { Clock } from '../../src/common/clock.js';
import { ConflictError } from '../../src/common/errors.js';
import { loadConfig } from '../../src/config/config.loader.js';
import { Database } from '../../src/database/database.js';
import { Notifier } from '../../src/database/notifier.js';
import { JobsRepository } from '../../src/jobs/jobs.repository.js';
import { JobListCache } from '../../src/jobs/job-list-cache.js';
import { JobPages } from '../../src/jobs/job-pages.js';
import { JobsService } from '../../src/jobs/jobs.service.js';
import { RunCancellation } from '../../src/runs/run-cancellation.js';
import { RunsRepository } from '../../src/runs/runs.repository.js';
import { StatsRepository } from '../../src/stats/stats.repository.js';
import { StatsService } from '../../src/stats/stats.service.js';
import { testDatabaseKinds } from '../support/databases.js';
import { openMigratedDatabase, type MigratedDatabase } from '../support/migrated-database.js';

const COUNT = 3000;
const id = (i: number) => `cfg-${String(i).padStart(4, '0')}`;

type Fields = Record<string, string>;
const line = (i: number, fields: Fields) => `  ${id(i)}: { ${Object.entries(fields).map(([key, value]) => `${key}: ${value}`).join(', ')} }`;

/** Job i of the first file: a third every jobs, a third cron jobs in Berlin, a third paused every jobs with every policy set. */
function firstFields(i: number): Fields {
  if (i % 3 === 0) return { pipeline: 'ok', every: '1h' };
  if (i % 3 === 1) return { pipeline: 'ok', cron: `"${i % 60} ${i % 24} * * *"`, timezone: 'Europe/Berlin' };
  // Params with what array literals must escape: quotes, commas, braces, backslashes, NULL.
  const params = i === 2 ? String.raw`{ n: 2, text: "a \"quoted\", {braced} \\ NULL", none: null, list: [1, "two"] }` : `{ n: ${i} }`;
  return { name: `"Job ${i}"`, pipeline: 'other', every: '2h', paused: 'true', params, overlap: 'queue', catchup: 'all',
    catchupWindow: '1h', jitter: '5s', expectSuccessWithin: '3h' };
}
const firstJob = (i: number) => line(i, firstFields(i));

/**
 * The second file: job i % 10 == 1 renamed only, 2 with a new interval or cron, 3 in another time
 * zone, 4 paused in the file (which counts only for a new job); the last 100 gone.
 */
function secondJob(i: number): string | null {
  if (i >= COUNT - 100) return null;
  const fields = firstFields(i);
  switch (i % 10) {
    case 1: return line(i, { ...fields, name: 'renamed' });
    case 2: return line(i, fields.cron ? { ...fields, cron: '"0 12 * * 1"' } : { ...fields, every: '30m' });
    case 3: return line(i, { ...fields, timezone: fields.cron ? 'America/New_York' : 'Asia/Tokyo' });
    case 4: return line(i, { ...fields, paused: 'true' });
    default: return line(i, fields);
  }
}

/** The real database, counting the statements sent to it. */
class CountingDatabase extends Database {
  statements = 0;
  override async rows<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    this.statements++;
    return super.rows<T>(sql, params);
  }
}

interface Row {
  id: string; name: string; pipeline: string; cron: string | null; everyMs: number | null; timezone: string; params: object;
  overlap: string; catchup: string; catchupWindowMs: number; jitterMs: number; paused: boolean; expectSuccessWithinMs: number | null;
  owner: string; source: string; enabled: boolean; version: number; anchorAt: Date | null; nextFireAt: Date | null; pauseNote: string | null;
}

describe.each(testDatabaseKinds())('config jobs synced at start on %s', (kind) => {
  let migrated: MigratedDatabase;
  let db: CountingDatabase;
  let dir: string;

  beforeAll(async () => {
    migrated = await openMigratedDatabase(kind);
    db = new CountingDatabase(migrated.dataSource, kind);
    // The sync warns about every job it disables; the test checks the rows instead.
    Logger.overrideLogger(['error']);
    dir = await mkdtemp(join(tmpdir(), 'cw-config-sync-'));
  });
  afterAll(async () => {
    await migrated?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Loads the file as the daemon does and runs the service's start-up sync on this database. */
  async function sync(jobLines: string[]) {
    const file = join(dir, 'cronwarden.yaml');
    await writeFile(file, ['pipelines:', '  ok: { command: ["true"] }', '  other: { command: ["true"] }', 'jobs:', ...jobLines].join('\n'));
    const config = loadConfig({ file, env: { JWT_SECRET: 'x'.repeat(32) }, cwd: dir });
    const jobs = new JobsRepository(db);
    const runs = new RunsRepository(db);
    const notifier = new Notifier('test-node', null);
    const clock = new Clock();
    const service = new JobsService(config, jobs, runs, notifier, clock, new RunCancellation(runs, notifier),
      new AuditLog(new AuditRepository(db)), new StatsService(new StatsRepository(db), jobs), new JobPages(jobs, runs, clock, new JobListCache(clock, notifier)));
    const before = db.statements;
    await service.syncConfigJobs();
    return { config, statements: db.statements - before };
  }
  const rows = async () => new Map((await db.rows<Row>(
    `SELECT id, name, pipeline, cron, every_ms AS "everyMs", timezone, params, overlap, catchup, catchup_window_ms AS "catchupWindowMs",
            jitter_ms AS "jitterMs", paused, pause_note AS "pauseNote", expect_success_within_ms AS "expectSuccessWithinMs", owner, source, enabled, version,
            anchor_at AS "anchorAt", next_fire_at AS "nextFireAt"
     FROM cw_jobs`)).map((row) => [row.id, row]));

  it('writes thousands of config jobs with every field of the file', async () => {
    const { config, statements } = await sync(Array.from({ length: COUNT }, (_, i) => firstJob(i)));
    // Multi-row statements, a thousand jobs each, and the one that disables jobs gone from the file.
    expect(statements).toBe(4);
    const stored = await rows();
    expect(stored.size).toBe(COUNT);
    for (const job of config.jobs.values()) {
      expect(stored.get(job.id)).toEqual({
        id: job.id, name: job.name, pipeline: job.pipeline, cron: job.cron, everyMs: job.everyMs, timezone: job.timezone, params: job.params,
        overlap: job.overlap, catchup: job.catchup, catchupWindowMs: job.catchupWindowMs, jitterMs: job.jitterMs, paused: job.paused,
        expectSuccessWithinMs: job.expectSuccessWithinMs, owner: 'system', source: 'config', enabled: true, version: 1, anchorAt: null, nextFireAt: null, pauseNote: null,
      });
    }
    expect(stored.get(id(2))!.params).toEqual({ n: 2, text: 'a "quoted", {braced} \\ NULL', none: null, list: [1, 'two'] });
    expect(stored.get(id(5))).toMatchObject({ name: 'Job 5', params: { n: 5 }, paused: true, catchupWindowMs: 3_600_000, jitterMs: 5_000 });
  });

  it('keeps pause state, anchors and next fires on a restart, clears a next fire whose schedule changed, disables jobs gone from the file', async () => {
    // What the scheduler and the API leave behind between two starts.
    await db.rows(`UPDATE cw_jobs SET anchor_at = now() - interval '1 minute', next_fire_at = now() + interval '1 day'`);
    await db.rows(`UPDATE cw_jobs SET paused = NOT paused, pause_note = 'by hand' WHERE id IN ($1, $2)`, [id(10), id(11)]);
    const before = await rows();
    const { config } = await sync(Array.from({ length: COUNT }, (_, i) => secondJob(i)).filter((line): line is string => line !== null));
    const after = await rows();
    expect(after.size).toBe(COUNT);
    for (let i = 0; i < COUNT; i++) {
      const was = before.get(id(i))!;
      const now = after.get(id(i))!;
      const job = config.jobs.get(id(i));
      const scheduleChanged = i % 10 === 2 || i % 10 === 3;
      expect(now).toEqual({
        ...was,
        ...(job ? { name: job.name, cron: job.cron, everyMs: job.everyMs, timezone: job.timezone } : {}),
        enabled: job !== undefined,
        version: was.version + 1,
        nextFireAt: job && scheduleChanged ? null : was.nextFireAt,
      });
    }
    expect(after.get(id(10))).toMatchObject({ paused: true, pauseNote: 'by hand' });
    expect(after.get(id(11))).toMatchObject({ name: 'renamed', paused: false, nextFireAt: before.get(id(11))!.nextFireAt });
    expect(after.get(id(24))).toMatchObject({ paused: false });
    expect(after.get(id(12))).toMatchObject({ everyMs: 1_800_000, nextFireAt: null });
    expect(after.get(id(13))).toMatchObject({ timezone: 'America/New_York', nextFireAt: null });
    expect(after.get(id(COUNT - 1))).toMatchObject({ enabled: false, nextFireAt: before.get(id(COUNT - 1))!.nextFireAt });
  });

  it('refuses a config job whose id an API job has, naming it, and leaves the API job alone', async () => {
    await db.rows(`INSERT INTO cw_jobs (id, name, pipeline, every_ms, owner, source) VALUES ('taken', 'Mine', 'ok', 3600000, 'alice', 'api')`);
    const lines = Array.from({ length: 1500 }, (_, i) => firstJob(i));
    lines.splice(1200, 0, '  taken: { pipeline: ok, every: 5h }');
    const refused = sync(lines);
    await expect(refused).rejects.toThrow(ConflictError);
    await expect(refused).rejects.toThrow(/^job "taken" in .*cronwarden\.yaml clashes with a job of that id created through the API; rename one of them$/);
    expect((await rows()).get('taken')).toMatchObject({ name: 'Mine', owner: 'alice', source: 'api', everyMs: 3_600_000, version: 1 });
  });
});
