import { Clock } from '../../src/common/clock.js';
import { Database } from '../../src/database/database.js';
import { ClockCheck } from '../../src/nodes/clock-check.js';
import { FIXTURES, waitFor, useTestDaemon } from '../support/daemon.js';
import { testDatabaseKinds } from '../support/databases.js';

const yaml = `
daemon:
  heartbeatInterval: 200ms
  nodeTimeout: 1s
  maxClockSkew: 1s
pipelines:
  ok:
    command: ["${FIXTURES}/exit-0.sh"]
jobs:
  tick: { pipeline: ok, cron: "* * * * * *", overlap: allow }
`;

describe.each(testDatabaseKinds())('a node whose clock disagrees with the database on %s', (kind) => {
  const daemon = useTestDaemon(kind, yaml);

  const sql = <T>(query: string, params: unknown[] = []) => daemon.daemon.app.get(Database).rows<T>(query, params);
  const fired = async () => (await sql<{ n: number }>(`SELECT count(*)::int AS n FROM cw_runs WHERE job_id = 'tick'`))[0].n;

  it('stops firing while its clock is a day ahead, never records a future instant, and fires again once it agrees', async () => {
    await waitFor(async () => (await fired()) >= 2, 10_000, 'the job to fire');
    const clock = daemon.daemon.app.get(Clock);
    const realNow = clock.now.bind(clock);
    clock.now = () => Date.now() + 86_400_000;
    const check = daemon.daemon.app.get(ClockCheck);
    expect(check.agrees).toBe(false);
    const [{ jumpedAt }] = await sql<{ jumpedAt: Date }>('SELECT now() AS "jumpedAt"');
    const countAtJump = await fired();
    // The next heartbeats measure the skew against the database too.
    await waitFor(async () => Math.abs((check.skewMs ?? 0) - 86_400_000) < 1_000, 5_000, 'a heartbeat to measure the skew');
    await waitFor(async () => Date.now() - jumpedAt.getTime() > 2_500, 5_000, 'time to pass');
    // A tick that read the clock just before the jump may have fired one instant: no more.
    expect(await fired()).toBeLessThanOrEqual(countAtJump + 1);
    const future = await sql(`SELECT scheduled_for FROM cw_runs WHERE job_id = 'tick' AND scheduled_for > now() + interval '1 second'`);
    expect(future).toEqual([]);
    const health = await fetch(`${daemon.url}/health`);
    expect(health.status).toBe(503);
    expect(((await health.json()) as { error: Record<string, { status: string }> }).error.clock.status).toBe('down');

    clock.now = realNow;
    expect(check.agrees).toBe(true);
    const countWhileSkewed = await fired();
    await waitFor(async () => (await fired()) > countWhileSkewed, 5_000, 'firing to resume');
    // Ready again: one probe may still time out on the database of a loaded machine, so it is asked until it answers.
    await waitFor(async () => (await fetch(`${daemon.url}/health`)).status === 200, 5_000, 'the node to be ready again');
  });
});
