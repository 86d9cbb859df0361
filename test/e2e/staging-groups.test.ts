import { Database } from '../../src/database/database.js';
import { dailyAt, FIXTURES, useTestDaemon } from '../support/daemon.js';
import { testDatabaseKinds } from '../support/databases.js';

// A run is staged 2 s before its instant, enough for a few thousand. Jobs sharing an instant are
// staged 0.5 ms earlier each (SchedulerService, stageLeadMs), all together: 8,000 of them 4 s ahead,
// so that a slow machine's embedded database (10,000 recorded in 2.3 s) still has them all
// recorded before the instant. Staged 2 s ahead, none would be recorded sooner than that.

const JOBS = 8_000;
/**
 * From the insert to the instant: the scheduler picks the jobs up at its next sync (every 5 s), and
 * their group's staging begins 4 s before the instant.
 */
const ROOM_MS = 16_000;

describe.each(testDatabaseKinds())(`an instant ${JOBS.toLocaleString('en-US')} jobs share, on %s`, (kind) => {
  const daemon = useTestDaemon(kind, `pipelines:\n  ok:\n    command: ["${FIXTURES}/exit-0.sh"]\n`);

  it("is staged for all of them together, earlier than one job's, and recorded before it", async () => {
    const db = daemon.daemon.app.get(Database);
    // Inserted in one statement, as jobs created through the API would be one by one (a config with
    // 8,000 jobs took the daemon over 20 s to start under the suite's load); the scheduler's periodic
    // sync tracks them like any job changed by another node.
    const instant = Math.ceil((Date.now() + ROOM_MS) / 1000) * 1000;
    await db.rows(
      `INSERT INTO cw_jobs (id, name, pipeline, cron, owner, source)
       SELECT 'shared_' || lpad(i::text, 4, '0'), 'shared ' || i, 'ok', $2, 'ops', 'api' FROM generate_series(1, $1::int) AS i`,
      [JOBS, dailyAt(new Date(instant))],
    );
    if (Date.now() > instant - 8_000) throw new Error(`inserting ${JOBS} jobs took too long for the test's instant (${instant - Date.now()} ms left)`);
    const staged = async () => (await db.rows<{ n: number }>(`SELECT count(*)::int AS n FROM cw_runs WHERE scheduled_for = $1 AND status = 'queued'`, [new Date(instant)]))[0].n;

    let firstAt: number | null = null;
    let allAt: number | null = null;
    while (allAt === null && Date.now() < instant - 300) {
      const n = await staged();
      if (n > 0) firstAt ??= Date.now();
      if (n === JOBS) allAt = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // Stopped before the instant: a lone node undoes what it staged, so the 8,000 never run.
    await daemon.close();

    expect({ recordedBefore: firstAt === null ? null : instant - firstAt }).toEqual({ recordedBefore: expect.any(Number) });
    // One job's lead is 2 s: the first runs of these came well before.
    expect(instant - firstAt!).toBeGreaterThan(2_500);
    expect({ allRecordedBeforeTheInstant: allAt !== null }).toEqual({ allRecordedBeforeTheInstant: true });
  }, 60_000);
});
