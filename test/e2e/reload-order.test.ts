import { jest } from '@jest/globals';
import { JobsRepository, type JobRow } from '../../src/jobs/jobs.repository.js';
import { SchedulerService } from '../../src/scheduler/scheduler.service.js';
import { api, FIXTURES, token, useTestDaemon, waitFor } from '../support/daemon.js';
import { testDatabaseKinds } from '../support/databases.js';

// A change to a job reaches the scheduler as a signal, and the scheduler reads the job's row again.
// Two changes in quick succession give two reads, on two connections on PostgreSQL, and the older
// read can finish last; so can a reload and the periodic sync. The scheduler must keep the newest
// row it has read, or a paused job stays scheduled (and a changed schedule reverts) until the next sync.

const admin = token('ops', ['admin']);
const yaml = `
pipelines:
  ok:
    command: ["${FIXTURES}/exit-0.sh"]
jobs:
  other: { pipeline: ok, cron: "0 0 1 1 *" }
`;
const yearly = { pipeline: 'ok', cron: '0 0 1 1 *' };

describe.each(testDatabaseKinds())('reads of a changed job that finish out of order, on %s', (kind) => {
  const daemon = useTestDaemon(kind, yaml);
  const scheduler = () => daemon.daemon.app.get(SchedulerService);
  const activeJobs = async () => ((await api(daemon, 'GET', '/health')).body.info.scheduler.activeJobs as number);

  afterEach(() => jest.restoreAllMocks());

  /** Starts a reload of `jobId` whose read of the row completes now but is applied only when `apply` is called. */
  async function heldReload(jobId: string): Promise<{ apply: () => Promise<void> }> {
    const repository = daemon.daemon.app.get(JobsRepository);
    const read = repository.findById.bind(repository);
    let readDone!: () => void;
    const done = new Promise<void>((resolve) => (readDone = resolve));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    jest.spyOn(repository, 'findById').mockImplementationOnce(async (id: string): Promise<JobRow | null> => {
      const row = await read(id);
      readDone();
      await gate;
      return row;
    });
    const reloading = scheduler().reload(jobId);
    await done;
    return { apply: async () => { release(); await reloading; } };
  }

  it('keeps a job paused when an older read of it, from before the pause, is applied after it', async () => {
    expect((await api(daemon, 'POST', '/api/cron/jobs', { token: admin, body: { id: 'held', ...yearly } })).status).toBe(201);
    await waitFor(async () => (await activeJobs()) === 2, 5_000, 'the new job to be scheduled');

    const stale = await heldReload('held');
    expect((await api(daemon, 'POST', '/api/cron/jobs/held/pause', { token: admin, body: { note: 'racing' } })).status).toBe(200);
    await waitFor(async () => (await activeJobs()) === 1, 5_000, 'the pause to reach the scheduler');
    await stale.apply();
    expect(await activeJobs()).toBe(1);

    // A newer read still counts: the resume schedules the job again.
    expect((await api(daemon, 'POST', '/api/cron/jobs/held/resume', { token: admin })).status).toBe(200);
    await waitFor(async () => (await activeJobs()) === 2, 5_000, 'the resume to reach the scheduler');
  });

  it('schedules a job recreated under the same id, whose versions start again, and not its deleted predecessor', async () => {
    expect((await api(daemon, 'POST', '/api/cron/jobs', { token: admin, body: { id: 'reborn', ...yearly } })).status).toBe(201);
    for (let i = 0; i < 3; i++) {
      const change = await api(daemon, 'PATCH', '/api/cron/jobs/reborn', { token: admin, body: { params: { round: i } } });
      expect(change.status).toBe(200);
    }
    await waitFor(async () => (await activeJobs()) === 3, 5_000, 'the job to be scheduled');

    const stale = await heldReload('reborn');
    expect((await api(daemon, 'DELETE', '/api/cron/jobs/reborn', { token: admin })).status).toBe(204);
    await waitFor(async () => (await activeJobs()) === 2, 5_000, 'the delete to reach the scheduler');
    await stale.apply();
    expect(await activeJobs()).toBe(2);

    // The new job's row has a lower version than the deleted one's last read, and a later creation time.
    expect((await api(daemon, 'POST', '/api/cron/jobs', { token: admin, body: { id: 'reborn', ...yearly } })).status).toBe(201);
    await waitFor(async () => (await activeJobs()) === 3, 5_000, 'the recreated job to be scheduled');
  });
});
