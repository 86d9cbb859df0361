import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Database } from '../../src/database/database.js';
import { ciMustSetDatabaseUrl } from '../support/databases.js';
import { processExists } from '../support/processes.js';
import { api, createTestStore, FIXTURES, startTestDaemon, token, waitFor, type TestDaemon, type TestStore } from '../support/daemon.js';

// A slot is a process: it is free as soon as the process has ended, while the run's outcome is
// still being written, and runs still being written are bounded by another maxConcurrentRuns. A
// run being written has an outcome already, which a late cancel does not change. To hold a run's
// write, the tests lock its row (or the output table) from a second connection. The embedded database
// runs every connection in one backend session, where a lock excludes nothing: PostgreSQL only.

const admin = token('ops', ['admin']);
/** Where the quick runs' children write their pids (a child this short ends before its own pid write). */
const pidDir = mkdtempSync(join(tmpdir(), 'cw-slots-'));
afterAll(() => rmSync(pidDir, { recursive: true, force: true }));

const yaml = `
daemon:
  maxConcurrentRuns: 1
pipelines:
  short:
    command: ["${FIXTURES}/sleep.sh", "1"]
  quick:
    command: ["${FIXTURES}/write-pid.sh", "${pidDir}"]
jobs:
  first: { pipeline: short, cron: "0 0 1 1 *" }
  second: { pipeline: short, cron: "0 0 1 1 *" }
  third: { pipeline: quick, cron: "0 0 1 1 *" }
  fourth: { pipeline: quick, cron: "0 0 1 1 *" }
`;

interface Run { id: string; status: string; cancelRequestedBy: string | null; error: string | null }

ciMustSetDatabaseUrl('runs the slot tests wherever CI runs (CI must set DATABASE_URL, or they would be dropped silently)');

for (const kind of process.env.DATABASE_URL ? ['postgres' as const] : []) {
  describe(`executor slots on ${kind}`, () => {
    let store: TestStore;
    let daemon: TestDaemon;
    let locker: pg.Client;

    beforeAll(async () => {
      store = await createTestStore(kind);
      daemon = await startTestDaemon(store, yaml);
      locker = new pg.Client({ connectionString: store.env.DATABASE_URL });
      await locker.connect();
    });
    afterAll(async () => {
      await locker?.end();
      await daemon?.close();
      await store?.dispose();
    });

    const trigger = async (jobId: string): Promise<Run> => {
      const response = await api(daemon, 'POST', `/api/cron/jobs/${jobId}/trigger`, { token: admin });
      expect(response.status).toBe(202);
      return response.body;
    };
    const run = async (id: string): Promise<Run> => (await api(daemon, 'GET', `/api/cron/runs/${id}`, { token: admin })).body;
    const pidOf = async (id: string) => {
      const [row] = await daemon.daemon.app.get(Database).rows<{ pid: number | null }>('SELECT pid FROM cw_runs WHERE id = $1', [id]);
      return row.pid;
    };
    /** Whether the run's child has started (its pid is recorded). */
    const started = async (id: string) => (await pidOf(id)) !== null;

    it('starts the next run once a process has ended, before its outcome is written, and holds back a third', async () => {
      const first = await trigger('first');
      await waitFor(() => started(first.id), 10_000, 'the first run to start');
      // A run's end cannot be written while this transaction holds its row.
      const hold = (runId: string) => locker.query('SELECT 1 FROM cw_runs WHERE id = $1 FOR UPDATE', [runId]);
      await locker.query('BEGIN');
      await hold(first.id);
      try {
        const second = await trigger('second');
        const third = await trigger('third');
        // The first process ends after 1 s; its run stays `running` in the database, yet the slot is free.
        await waitFor(() => started(second.id), 10_000, 'the second run to start while the first is being written');
        expect((await run(first.id)).status).toBe('running');
        await hold(second.id);
        // Once the second process has ended too, two runs are being written: the bound for one
        // slot. The third waits although no process runs.
        await new Promise((resolve) => setTimeout(resolve, 2_000));
        expect((await run(second.id)).status).toBe('running');
        expect((await run(third.id)).status).toBe('queued');
      } finally {
        await locker.query('ROLLBACK');
      }
      for (const jobId of ['first', 'second', 'third']) {
        await waitFor(async () => {
          const { body } = await api(daemon, 'GET', `/api/cron/jobs/${jobId}/runs`, { token: admin });
          return body.items[0]?.status === 'succeeded';
        }, 15_000, `the run of ${jobId} to succeed`);
      }
    });

    it('keeps the outcome of a process that ended before a cancel arrived, and records who asked', async () => {
      // The run's output cannot be stored while this transaction locks the table: it stays `running`
      // after its process has exited (exit code 0), and the cancel finds nothing left to stop.
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE cw_run_output IN EXCLUSIVE MODE');
      let fourth: Run;
      try {
        fourth = await trigger('fourth');
        const pidFile = join(pidDir, fourth.id);
        const pid = await waitFor(async () => Number(readFileSync(pidFile, { encoding: 'utf8', flag: 'a+' })), 10_000, 'the run to start');
        await waitFor(async () => !processExists(pid), 10_000, 'its process to exit');
        const cancel = await api(daemon, 'POST', `/api/cron/runs/${fourth.id}/cancel`, { token: admin, body: { reason: 'too late' } });
        expect(cancel.status).toBe(202);
      } finally {
        await locker.query('ROLLBACK');
      }
      const ended = await waitFor(async () => {
        const now = await run(fourth.id);
        return now.status !== 'running' ? now : null;
      }, 15_000, 'the run to be recorded');
      expect(ended).toMatchObject({ status: 'succeeded', cancelRequestedBy: 'ops' });
    });
  });
}
