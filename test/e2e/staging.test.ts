import { api, FIXTURES, token, useTestDaemon, waitFor } from '../support/daemon.js';
import { testDatabaseKinds } from '../support/databases.js';

const admin = token('ops', ['admin']);

// The poll is 30 s: a run that starts within a second of its instant was claimed at the instant it was staged for.
const yaml = `
daemon:
  pollInterval: 30s
pipelines:
  ok:
    command: ["${FIXTURES}/exit-0.sh"]
  slow:
    command: ["${FIXTURES}/sleep.sh", "1.5"]
jobs:
  every_three:
    pipeline: ok
    cron: "*/3 * * * * *"
  other:
    pipeline: ok
    every: 1d
`;

interface Run { id: string; status: string; trigger: string; scheduledFor: string; queuedAt: string; startedAt: string | null; error: string | null; params: Record<string, unknown> }

describe.each(testDatabaseKinds())('staged runs on %s', (kind) => {
  const daemon = useTestDaemon(kind, yaml);

  const runsOf = async (jobId: string): Promise<Run[]> =>
    (await api(daemon, 'GET', `/api/cron/jobs/${jobId}/runs?limit=100`, { token: admin })).body.items;
  const runById = async (jobId: string, id: string) => (await runsOf(jobId)).find((run) => run.id === id)!;
  /** A run of the job recorded at least `marginMs` before its instant, and still ahead of it. */
  const stagedRun = (jobId: string, marginMs: number) =>
    waitFor(async () => (await runsOf(jobId)).find((run) => run.status === 'queued' && Date.parse(run.scheduledFor) - Date.now() > marginMs), 10_000, `a staged run of ${jobId}`);
  const sleepUntil = (instant: string, plusMs: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(instant) + plusMs - Date.now())));

  it('records a run before its instant, queued from the instant, and starts it then, not before', async () => {
    const staged = await stagedRun('every_three', 500);
    expect(staged.queuedAt).toBe(staged.scheduledFor);
    expect(staged.trigger).toBe('schedule');
    // Another job's run, queued and ended, wakes the executor while the staged run waits: the claim leaves it.
    const manual = (await api(daemon, 'POST', '/api/cron/jobs/other/trigger', { token: admin, body: {} })).body;
    await waitFor(async () => (await runById('other', manual.id)).status === 'succeeded', 5_000, 'the manual run to succeed');
    expect(Date.now()).toBeLessThan(Date.parse(staged.scheduledFor));
    expect((await runById('every_three', staged.id)).status).toBe('queued');
    const ran = await waitFor(async () => {
      const run = await runById('every_three', staged.id);
      return run.status === 'succeeded' ? run : null;
    }, 10_000, 'the staged run to succeed');
    const startLateness = Date.parse(ran.startedAt!) - Date.parse(ran.scheduledFor);
    expect(startLateness).toBeGreaterThanOrEqual(0);
    // Nothing else wakes the executor now, and its poll is 30 s away: the instant itself did.
    expect(startLateness).toBeLessThan(250);
    // One run per instant, however many times it was staged, fired or claimed.
    const instants = (await runsOf('every_three')).map((run) => run.scheduledFor);
    expect(new Set(instants).size).toBe(instants.length);
  });

  it('stages a per-second job whose runs end within half a second, and starts each run at its instant', async () => {
    const created = Date.now();
    expect((await api(daemon, 'POST', '/api/cron/jobs', { token: admin, body: { id: 'each_second', pipeline: 'ok', cron: '* * * * * *', overlap: 'skip' } })).status).toBe(201);
    try {
      // Not its first instant (nothing ran before that one): a later one, staged half a second ahead,
      // when the run of the instant before, a quick one, has ended.
      const staged = await waitFor(async () => (await runsOf('each_second')).find((run) =>
        run.status === 'queued' && Date.parse(run.scheduledFor) >= created + 3_000 && Date.parse(run.scheduledFor) - Date.now() > 150), 10_000, 'a later instant staged');
      expect(staged.queuedAt).toBe(staged.scheduledFor);
      const ran = await waitFor(async () => {
        const run = await runById('each_second', staged.id);
        return run?.status === 'succeeded' ? run : null;
      }, 5_000, 'the staged run to succeed');
      expect(Date.parse(ran.startedAt!) - Date.parse(ran.scheduledFor)).toBeLessThan(250);
    } finally {
      expect((await api(daemon, 'DELETE', '/api/cron/jobs/each_second', { token: admin })).status).toBe(204);
    }
  });

  it('does not stage the next instant of a job whose run is still active; the fire at the instant decides', async () => {
    // Each run lasts 1.5 s: the next instant comes due for staging while a run is queued or running.
    expect((await api(daemon, 'POST', '/api/cron/jobs', { token: admin, body: { id: 'busy', pipeline: 'slow', cron: '* * * * * *', overlap: 'skip' } })).status).toBe(201);
    const runs = await waitFor(async () => {
      const found = await runsOf('busy');
      return found.filter((run) => run.status === 'skipped').length >= 2 ? found : null;
    }, 10_000, 'two instants skipped');
    expect(runs.filter((run) => Date.parse(run.scheduledFor) > Date.now())).toEqual([]);
    for (const run of runs) expect(Date.parse(run.queuedAt)).toBeGreaterThanOrEqual(Date.parse(run.scheduledFor));
    for (const run of runs.filter((r) => r.status === 'skipped')) expect(run.error).toMatch(/^overlap policy skip: run [0-9a-f-]{36} has not finished$/);
    expect((await api(daemon, 'DELETE', '/api/cron/jobs/busy', { token: admin })).status).toBe(204);
  });

  it('undoes a staged run when its job is paused before the instant; resumed in time, the instant still fires', async () => {
    expect((await api(daemon, 'POST', '/api/cron/jobs', { token: admin, body: { id: 'pausable', pipeline: 'ok', cron: '*/3 * * * * *' } })).status).toBe(201);
    const staged = await stagedRun('pausable', 900);
    expect((await api(daemon, 'POST', '/api/cron/jobs/pausable/pause', { token: admin, body: { note: 'test' } })).status).toBe(200);
    expect((await runsOf('pausable')).find((run) => run.scheduledFor === staged.scheduledFor)).toBeUndefined();
    expect((await api(daemon, 'POST', '/api/cron/jobs/pausable/resume', { token: admin })).status).toBe(200);
    await sleepUntil(staged.scheduledFor, 0);
    const ran = await waitFor(async () => (await runsOf('pausable')).find((run) => run.scheduledFor === staged.scheduledFor && run.status === 'succeeded'),
      5_000, 'the instant to run after all');
    expect(ran.id).not.toBe(staged.id);

    // Paused across the instant: it does not run.
    const next = await stagedRun('pausable', 700);
    expect((await api(daemon, 'POST', '/api/cron/jobs/pausable/pause', { token: admin, body: { note: 'test' } })).status).toBe(200);
    await sleepUntil(next.scheduledFor, 500);
    expect((await runsOf('pausable')).filter((run) => run.scheduledFor === next.scheduledFor)).toEqual([]);
  });

  it("updates a staged run's params when the job's change, and undoes it when its schedule changes", async () => {
    expect((await api(daemon, 'POST', '/api/cron/jobs', { token: admin, body: { id: 'changing', pipeline: 'ok', cron: '*/3 * * * * *', params: { v: 1 } } })).status).toBe(201);
    const first = await stagedRun('changing', 700);
    expect(first.params).toEqual({ v: 1 });
    expect((await api(daemon, 'PATCH', '/api/cron/jobs/changing', { token: admin, body: { params: { v: 2 } } })).status).toBe(200);
    expect((await runById('changing', first.id)).params).toEqual({ v: 2 });
    await sleepUntil(first.scheduledFor, 0);
    await waitFor(async () => (await runById('changing', first.id)).status === 'succeeded', 10_000, 'the updated run to succeed');

    const second = await stagedRun('changing', 700);
    expect((await api(daemon, 'PATCH', '/api/cron/jobs/changing', { token: admin, body: { cron: '0 0 0 1 1 *' } })).status).toBe(200);
    await sleepUntil(second.scheduledFor, 500);
    expect((await runsOf('changing')).filter((run) => run.scheduledFor === second.scheduledFor)).toEqual([]);
  });
});
