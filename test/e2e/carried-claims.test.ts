import { jest } from '@jest/globals';
import { Database } from '../../src/database/database.js';
import { RunsRepository } from '../../src/runs/runs.repository.js';
import { FIXTURES, useTestDaemon, waitFor } from '../support/daemon.js';
import { testDatabaseKinds } from '../support/databases.js';

// A run that ends with nothing left to write has its finish written in the same statement as the
// claim that refills its slot (RunFinisher.carryClaimsOf, RunsRepository.endManyAndClaim).
const RUNS = 30;
const yaml = `
daemon:
  maxConcurrentRuns: 2
pipelines:
  quiet:
    command: ["${FIXTURES}/quiet.sh"]
jobs:
  drained: { pipeline: quiet, cron: "0 0 1 1 *", overlap: allow }
`;

describe.each(testDatabaseKinds())('claims carried by finishes on %s', (kind) => {
  const daemon = useTestDaemon(kind, yaml);
  afterEach(() => jest.restoreAllMocks());

  it(`refills a freed slot in the statement that records the run that ended: ${RUNS} runs, most claims carried`, async () => {
    const runs = daemon.daemon.app.get(RunsRepository);
    const alone = jest.spyOn(runs, 'claimQueued');
    const carried = jest.spyOn(runs, 'endManyAndClaim');
    const db = daemon.daemon.app.get(Database);
    // Claimable a second from now: a claim the daemon's poll sent before the spies were in place
    // (so not counted) may still reach the database after this insert, and must find nothing.
    await db.rows(
      `INSERT INTO cw_runs (id, job_id, status, trigger, triggered_by, not_before)
       SELECT gen_random_uuid(), 'drained', 'queued', 'manual', 'test', now() + interval '1 second' FROM generate_series(1, $1::int)`,
      [RUNS],
    );
    await waitFor(async () => {
      const [row] = await db.rows<{ ended: number }>(`SELECT count(*)::int AS ended FROM cw_runs WHERE job_id = 'drained' AND status = 'succeeded'`);
      return row.ended === RUNS;
    }, 30_000, `${RUNS} runs to succeed`);
    const claimedAlong = (await Promise.all(carried.mock.results.map((result) => result.value as ReturnType<RunsRepository['endManyAndClaim']>)))
      .reduce((sum, result) => sum + result.claimed.length, 0);
    // The first two runs are claimed on their own (nothing has ended yet); nearly all others ride along.
    const claimedAlone = (await Promise.all(alone.mock.results.map((result) => result.value as ReturnType<RunsRepository['claimQueued']>)))
      .reduce((sum, claimed) => sum + claimed.length, 0);
    expect(claimedAlong + claimedAlone).toBe(RUNS);
    expect(claimedAlong).toBeGreaterThanOrEqual(RUNS * 0.75);
    const [states] = await db.rows<{ statuses: string[] }>(`SELECT array_agg(DISTINCT status) AS statuses FROM cw_runs WHERE job_id = 'drained'`);
    expect(states.statuses).toEqual(['succeeded']);
  });
});
