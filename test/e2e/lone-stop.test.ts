import { jest } from '@jest/globals';
import { Database } from '../../src/database/database.js';
import { ExecutorService } from '../../src/executor/executor.service.js';
import { RunsRepository } from '../../src/runs/runs.repository.js';
import { api, createTestStore, dailyAt, FIXTURES, startTestDaemon, token, waitFor, type TestDaemon, type TestStore } from '../support/daemon.js';
import { testDatabaseKinds } from '../support/databases.js';

// The scheduler records a run up to 2 s before its instant (staging), for every node's executor to
// start at the instant. A lone node that stops in between leaves no node to start it: the instant
// is missed, and at the next start the job's catch-up policy must decide about it, as about any
// instant missed while no node ran. Left staged, the run started whenever the next start came (or
// failed after queueTimeout), whatever the policy said.

const admin = token('ops', ['admin']);
const yaml = `
daemon:
  heartbeatInterval: 500ms
  nodeTimeout: 3s
pipelines:
  ok:
    command: ["${FIXTURES}/exit-0.sh"]
`;
/** The grace within which a late instant still fires as on time (MISFIRE_GRACE_MS), and a margin. */
const PAST_GRACE_MS = 6_000;

/**
 * Closes the daemon; returns the time its executor stopped claiming, the moment that must come before
 * the instant. The rest of a close (the HTTP server, the database, the embedded one's process) may
 * end after it without the node having run anything: under load it took longer than the 2 s lead.
 */
async function closeNotingWhenClaimsStopped(daemon: TestDaemon): Promise<number> {
  const executor = daemon.daemon.app.get(ExecutorService);
  const shutdown = executor.shutdown.bind(executor);
  let stoppedAt = Number.POSITIVE_INFINITY;
  const spy = jest.spyOn(executor, 'shutdown').mockImplementation((...args) => {
    stoppedAt = Date.now();
    return shutdown(...args);
  });
  await daemon.close();
  spy.mockRestore();
  return stoppedAt;
}

interface Run { id: string; status: string; trigger: string; scheduledFor: string; startedAt: string | null; error: string | null }

describe.each(testDatabaseKinds())('a lone node stopped between staging a run and its instant, on %s', (kind) => {
  let store: TestStore;
  let daemon: TestDaemon | undefined;

  beforeAll(async () => {
    store = await createTestStore(kind);
  });
  afterAll(async () => {
    await daemon?.close();
    await store?.dispose();
  });
  afterEach(() => jest.restoreAllMocks());

  const runsOf = async (jobId: string): Promise<Run[]> =>
    (await api(daemon!, 'GET', `/api/cron/jobs/${jobId}/runs?limit=100`, { token: admin })).body.items;

  /**
   * Creates one job per catch-up policy given, each firing once at the same `instant`, stops the
   * node once their runs are staged, and starts it again past the instant's grace; returns each
   * job's runs of the instant. `crash`: the node ends without its stop taking the runs back, as
   * after a crash; with `'another node looks alive'` a row in cw_nodes whose heartbeat is an hour
   * ahead is there at the restart.
   */
  async function stopWhileStaged(jobs: Record<string, string>, { crash }: { crash?: 'alone' | 'another node looks alive' } = {}): Promise<Record<string, Run[]>> {
    daemon = await startTestDaemon(store, yaml);
    const instant = new Date(Math.ceil((Date.now() + 4_000) / 1000) * 1000);
    for (const [jobId, catchup] of Object.entries(jobs)) {
      const created = await api(daemon, 'POST', '/api/cron/jobs', { token: admin, body: { id: jobId, pipeline: 'ok', cron: dailyAt(instant), catchup } });
      expect(created.status).toBe(201);
    }
    const runsAt = async (jobId: string) => (await runsOf(jobId)).filter((run) => Date.parse(run.scheduledFor) === instant.getTime());
    for (const jobId of Object.keys(jobs)) {
      await waitFor(async () => (await runsAt(jobId)).some((run) => run.status === 'queued'), 5_000, `the run of ${jobId} to be staged`);
    }
    if (crash) jest.spyOn(daemon.daemon.app.get(RunsRepository), 'unstageAhead').mockResolvedValue(0);
    if (crash === 'another node looks alive') {
      await daemon.daemon.app.get(Database).rows(
        `INSERT INTO cw_nodes (id, hostname, pid, version, heartbeat_at) VALUES ($1, 'elsewhere', 1, 'test', now() + interval '1 hour')`,
        [`looks-alive-${instant.getTime()}`],
      );
    }
    const claimsStoppedAt = await closeNotingWhenClaimsStopped(daemon);
    daemon = undefined;
    // The test is only meaningful if the node stopped claiming before the instant.
    expect(claimsStoppedAt).toBeLessThan(instant.getTime());
    await new Promise((resolve) => setTimeout(resolve, instant.getTime() + PAST_GRACE_MS - Date.now()));
    daemon = await startTestDaemon(store, yaml);
    const decided = (runs: Run[]) => runs.some((run) => ['skipped', 'succeeded', 'failed'].includes(run.status));
    const result: Record<string, Run[]> = {};
    for (const jobId of Object.keys(jobs)) {
      result[jobId] = await waitFor(async () => {
        const runs = await runsAt(jobId);
        return decided(runs) ? runs : null;
      }, 10_000, `the missed instant of ${jobId} to be decided`);
    }
    await daemon.close();
    daemon = undefined;
    return result;
  }

  it('after a stop: catchup skip records the instant skipped and never runs it; catchup once runs it once, as a catch-up run', async () => {
    const runs = await stopWhileStaged({ skipper: 'skip', once: 'once' });
    expect(runs.skipper).toHaveLength(1);
    expect(runs.skipper[0]).toMatchObject({ status: 'skipped' });
    expect(runs.skipper[0].error).toMatch(/while no node was firing; catch-up policy skip/);
    expect(runs.once).toHaveLength(1);
    expect(runs.once[0]).toMatchObject({ status: 'succeeded', trigger: 'catchup' });
  });

  it('after a crash (no stop to take the runs back), the next start takes them back while no other node is alive', async () => {
    const runs = await stopWhileStaged({ crashed: 'skip', crashed_once: 'once' }, { crash: 'alone' });
    expect(runs.crashed).toHaveLength(1);
    expect(runs.crashed[0]).toMatchObject({ status: 'skipped' });
    expect(runs.crashed[0].error).toMatch(/while no node was firing; catch-up policy skip/);
    expect(runs.crashed_once).toHaveLength(1);
    expect(runs.crashed_once[0]).toMatchObject({ status: 'succeeded', trigger: 'catchup' });
  });

  it(kind === 'pglite'
    ? 'on the embedded database, where no other daemon can run, takes them back even while a crashed node still looks alive'
    : 'while another node looks alive, leaves them to run, at once, as that node would have', async () => {
    const runs = await stopWhileStaged({ looks_alive: 'skip' }, { crash: 'another node looks alive' });
    expect(runs.looks_alive).toHaveLength(1);
    if (kind === 'pglite') expect(runs.looks_alive[0]).toMatchObject({ status: 'skipped' });
    else expect(runs.looks_alive[0]).toMatchObject({ status: 'succeeded', trigger: 'schedule' });
  });
});

// Two nodes need one shared PostgreSQL: the embedded database serves a single node.
for (const kind of testDatabaseKinds().filter((kind) => kind === 'postgres')) describe(`a node stopped between staging a run and its instant, with another node up, on ${kind}`, () => {
  let store: TestStore;
  const daemons: TestDaemon[] = [];

  beforeAll(async () => {
    store = await createTestStore(kind);
    daemons.push(await startTestDaemon(store, yaml), await startTestDaemon(store, yaml));
  });
  afterAll(async () => {
    for (const daemon of daemons) await daemon.close();
    await store?.dispose();
  });

  it('leaves the staged run for the node still up, which starts it at its instant', async () => {
    const [stopping, staying] = daemons;
    const runsOf = async (jobId: string): Promise<Run[]> =>
      (await api(staying, 'GET', `/api/cron/jobs/${jobId}/runs?limit=100`, { token: admin })).body.items;
    const instant = new Date(Math.ceil((Date.now() + 4_000) / 1000) * 1000);
    const created = await api(stopping, 'POST', '/api/cron/jobs', { token: admin, body: { id: 'shared', pipeline: 'ok', cron: dailyAt(instant), catchup: 'skip' } });
    expect(created.status).toBe(201);
    await waitFor(async () => (await runsOf('shared')).some((run) => run.status === 'queued' && Date.parse(run.scheduledFor) === instant.getTime()),
      5_000, 'the run to be staged');
    const claimsStoppedAt = await closeNotingWhenClaimsStopped(stopping);
    daemons.shift();
    expect(claimsStoppedAt).toBeLessThan(instant.getTime());
    const runs = await waitFor(async () => {
      const found = (await runsOf('shared')).filter((run) => Date.parse(run.scheduledFor) === instant.getTime());
      return found.some((run) => run.status !== 'queued' && run.status !== 'running') ? found : null;
    }, instant.getTime() - Date.now() + 10_000, 'the instant to be run');
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ status: 'succeeded', trigger: 'schedule' });
    // Started at its instant by the executor of the node still up, not by a later catch-up.
    expect(Date.parse(runs[0].startedAt!) - instant.getTime()).toBeLessThan(1_000);
  });
});
