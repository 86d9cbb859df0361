import { Database } from '../../src/database/database.js';
import { api, FIXTURES, startTestDaemon, token, waitFor, type TestDaemon } from '../support/daemon.js';
import { ciMustSetDatabaseUrl } from '../support/databases.js';
import { PrivatePostgres } from './private-postgres.js';

const admin = token('ops', ['admin']);
const OUTAGE_MS = 7_000;

const yaml = `
daemon:
  heartbeatInterval: 500ms
  nodeTimeout: 2s
pipelines:
  talk:
    command: ["node", "${FIXTURES}/progress.mjs", "150", "100"]
    retries: 2
  ok:
    command: ["${FIXTURES}/exit-0.sh"]
jobs:
  talk: { pipeline: talk, every: 5h }
  tick: { pipeline: ok, cron: "* * * * * *", overlap: allow, catchup: skip }
`;

// A private server the test may stop; run where the cluster tests run (CI has PostgreSQL installed).
ciMustSetDatabaseUrl('runs the outage test wherever CI runs (CI must set DATABASE_URL, or it would be dropped silently)');

for (const kind of process.env.DATABASE_URL ? ['postgres'] : []) {
  describe(`a ${kind} outage of ${OUTAGE_MS / 1000} s`, () => {
    let server: PrivatePostgres;
    let daemon: TestDaemon;

    beforeAll(async () => {
      server = await PrivatePostgres.create();
      const store = { kind: 'postgres' as const, env: { DATABASE_URL: server.url }, dispose: async () => undefined };
      daemon = await startTestDaemon(store, yaml);
    });
    afterAll(async () => {
      await daemon?.close();
      server?.destroy();
    });

    const sql = <T>(query: string, params: unknown[] = []) => daemon.daemon.app.get(Database).rows<T>(query, params);

    it('leaves the running child alone, then records all its output and its end, with nothing abandoned or run twice', async () => {
      const { body: run } = await api(daemon, 'POST', '/api/cron/jobs/talk/trigger', { token: admin });
      await waitFor(async () => (await api(daemon, 'GET', `/api/cron/runs/${run.id}/output`, { token: admin })).body.includes('step 10/150'), 10_000, 'some output stored');
      server.stop();
      const stoppedAt = Date.now();
      await waitFor(async () => Date.now() - stoppedAt >= OUTAGE_MS, OUTAGE_MS + 1_000, 'the outage');
      server.start();

      const ended = await waitFor(async () => {
        const { status, body } = await api(daemon, 'GET', `/api/cron/runs/${run.id}`, { token: admin });
        return status === 200 && !['queued', 'running'].includes(body.status) ? body : null;
      }, 30_000, 'the run to be recorded as ended');
      expect(ended).toMatchObject({ status: 'succeeded', exitCode: 0, attempt: 1 });
      const output: string = (await api(daemon, 'GET', `/api/cron/runs/${run.id}/output`, { token: admin })).body;
      expect(output.trim().split('\n')).toEqual(Array.from({ length: 150 }, (_, i) => `step ${i + 1}/150`));
      expect(await sql(`SELECT id, status FROM cw_runs WHERE status = 'abandoned' OR trigger = 'retry'`)).toEqual([]);
    });

    it('fires each missed instant by the catch-up policy once the database is back, and none twice', async () => {
      const [{ n }] = await sql<{ n: number }>(`SELECT count(*)::int AS n FROM cw_runs WHERE job_id = 'tick' AND status = 'skipped' AND error LIKE '%catch-up policy skip%'`);
      expect(n).toBeGreaterThanOrEqual(1);
      const duplicates = await sql(`SELECT scheduled_for FROM cw_runs WHERE job_id = 'tick' GROUP BY scheduled_for HAVING count(*) > 1`);
      expect(duplicates).toEqual([]);
    });
  });
}
