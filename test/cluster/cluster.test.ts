import type pg from 'pg';
import { FIXTURES, token, waitFor } from '../support/daemon.js';
import { ciMustSetDatabaseUrl, createTestDatabase, type TestDatabase } from '../support/databases.js';
import { connect, DaemonProcess, processLives, writeConfig } from './daemon-process.js';

const admin = token('ops', ['admin']);
const NODE_TIMEOUT_MS = 4_000;

const yaml = `
daemon:
  heartbeatInterval: 1s
  nodeTimeout: 4s
  shutdownGrace: 2s
pipelines:
  ok:
    command: ["${FIXTURES}/exit-0.sh"]
  long:
    command: ["${FIXTURES}/sleep.sh", "60"]
    retries: { max: 1, backoff: 0s }
jobs:
  tick: { pipeline: ok, cron: "* * * * * *", overlap: allow }
  long: { pipeline: long, every: 5h }
  parent: { pipeline: ok, every: 5h, onSuccess: [child] }
  child: { pipeline: ok, every: 5h }
`;

ciMustSetDatabaseUrl('runs the cluster tests wherever CI runs (CI must set DATABASE_URL, or they would be dropped silently)');

// Several daemons need one shared PostgreSQL: the embedded database serves a single node.
for (const kind of process.env.DATABASE_URL ? ['postgres'] : []) {
  describe(`three daemon processes on one ${kind} database`, () => {
    let db: TestDatabase;
    let client: pg.Client;
    let nodes: DaemonProcess[] = [];
    let env: Record<string, string>;

    beforeAll(async () => {
      db = await createTestDatabase('postgres');
      env = { DATABASE_URL: db.url!, CRONWARDEN_CONFIG: await writeConfig(yaml) };
      nodes = [0, 1, 2].map(() => new DaemonProcess(env));
      await Promise.all(nodes.map((node) => node.ready()));
      client = await connect(db.url!);
    });
    afterAll(async () => {
      await Promise.all(nodes.map((node) => node.stop()));
      await client?.end();
      await db?.drop();
    });

    const rows = async <T>(sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows as T[];

    it('runs every instant of a per-second job exactly once, with none missing, whichever node fires', async () => {
      const since = Date.now();
      await waitFor(async () => Date.now() - since > 10_000, 15_000, '10 s of firing');
      const runs = await rows<{ at: Date; n: number; status: string }>(
        `SELECT scheduled_for AS at, count(*)::int AS n, min(status) AS status FROM cw_runs
         WHERE job_id = 'tick' AND status <> 'queued' GROUP BY scheduled_for ORDER BY scheduled_for`,
      );
      expect(runs.length).toBeGreaterThanOrEqual(9);
      expect(runs.filter((run) => run.n !== 1)).toEqual([]);
      const seconds = runs.map((run) => run.at.getTime() / 1000);
      expect(seconds[seconds.length - 1] - seconds[0]).toBe(seconds.length - 1);
      expect(runs.filter((run) => run.status !== 'succeeded' && run.status !== 'running')).toEqual([]);
    });

    it('stops firing on every node within a second of a pause made through one of them', async () => {
      const paused = await nodes[0].api('POST', '/api/cron/jobs/tick/pause', admin, { note: 'cluster test' });
      expect(paused.status).toBe(200);
      const [{ now }] = await rows<{ now: Date }>('SELECT now()');
      await waitFor(async () => Date.now() - now.getTime() > 3_000, 5_000, '3 s after the pause');
      // A run staged for an instant after the pause is cancelled by it, never started.
      const late = await rows<{ status: string; started_at: Date | null; error: string | null }>(
        `SELECT scheduled_for, node_id, status, started_at, error FROM cw_runs WHERE job_id = 'tick' AND queued_at > $1`, [new Date(now.getTime() + 1_000)]);
      expect(late.filter((run) => run.status !== 'cancelled' || run.started_at !== null || run.error !== 'the job was paused before this instant')).toEqual([]);
    });

    it('queues a chained job exactly once per finished run, with three nodes up', async () => {
      const parents = [];
      for (const node of [...nodes, ...nodes]) parents.push((await node.api('POST', '/api/cron/jobs/parent/trigger', admin)).body.id as string);
      const chained = await waitFor(async () => {
        const found = await rows<{ parent: string; n: number; done: number }>(
          `SELECT parent_run_id AS parent, count(*)::int AS n, count(*) FILTER (WHERE status = 'succeeded')::int AS done
           FROM cw_runs WHERE job_id = 'child' AND trigger = 'chain' GROUP BY parent_run_id`);
        return found.length === parents.length && found.every((row) => row.done === row.n) ? found : null;
      }, 15_000, 'a chained run for every parent');
      expect(chained.map((row) => row.parent).sort()).toEqual([...parents].sort());
      expect(chained.filter((row) => row.n !== 1)).toEqual([]);
    });

    it('abandons the run of a node killed with -9 within nodeTimeout, retries it on another node, and kills its orphaned group', async () => {
      const { body: run } = await nodes[1].api('POST', '/api/cron/jobs/long/trigger', admin);
      const [started] = await waitFor(async () => {
        const found = await rows<{ node_id: string; pid: number | null }>(`SELECT node_id, pid FROM cw_runs WHERE id = $1 AND pid IS NOT NULL`, [run.id]);
        return found.length ? found : null;
      }, 10_000, 'the run to start');
      const [owner] = await rows<{ pid: number }>('SELECT pid FROM cw_nodes WHERE id = $1', [started.node_id]);
      const victim = nodes.find((node) => node.pid === owner.pid)!;
      const killedAt = Date.now();
      await victim.stop('SIGKILL');
      expect(processLives(started.pid!)).toBe(true);

      const [abandoned] = await waitFor(async () => {
        const found = await rows<{ status: string; error: string }>(`SELECT status, error FROM cw_runs WHERE id = $1 AND status = 'abandoned'`, [run.id]);
        return found.length ? found : null;
      }, NODE_TIMEOUT_MS + 5_000, 'the run to be abandoned');
      expect(Date.now() - killedAt).toBeLessThan(NODE_TIMEOUT_MS + 3_000);
      expect(abandoned.error).toMatch(new RegExp(`^its node ${started.node_id} \\(.+\\) stopped heartbeating`));

      const [retry] = await waitFor(async () => {
        const found = await rows<{ node_id: string; attempt: number; trigger: string }>(
          `SELECT node_id, attempt, trigger FROM cw_runs WHERE parent_run_id = $1 AND status = 'running'`, [run.id]);
        return found.length ? found : null;
      }, 10_000, 'the retry to run');
      expect(retry).toMatchObject({ trigger: 'retry', attempt: 2 });
      expect(retry.node_id).not.toBe(started.node_id);
      // Its node is gone, but a node on the same host finds the group by its pid and start time.
      await waitFor(async () => !processLives(started.pid!), 5_000, 'the orphaned child to be killed');
    });
  });

  describe(`a daemon restarted after kill -9 on ${kind}`, () => {
    let db: TestDatabase;
    let client: pg.Client;
    const nodes: DaemonProcess[] = [];

    beforeAll(async () => {
      db = await createTestDatabase('postgres');
      client = await connect(db.url!);
    });
    afterAll(async () => {
      await Promise.all(nodes.map((node) => node.stop()));
      await client?.end();
      await db?.drop();
    });

    it('kills the process group its previous life left running, once the run is abandoned', async () => {
      const env = { DATABASE_URL: db.url!, CRONWARDEN_CONFIG: await writeConfig(yaml.replace('tick: { pipeline: ok, cron: "* * * * * *", overlap: allow }', '')) };
      nodes.push(new DaemonProcess(env));
      await nodes[0].ready();
      const { body: run } = await nodes[0].api('POST', '/api/cron/jobs/long/trigger', admin);
      const pid = await waitFor(async () => (await client.query('SELECT pid FROM cw_runs WHERE id = $1', [run.id])).rows[0]?.pid as number | null, 10_000, 'the run to start');
      await nodes[0].stop('SIGKILL');
      expect(processLives(pid)).toBe(true);
      nodes.push(new DaemonProcess(env));
      await nodes[1].ready();
      await waitFor(async () => !processLives(pid), NODE_TIMEOUT_MS + 5_000, 'the orphaned child to be killed');
      const { rows } = await client.query(`SELECT status FROM cw_runs WHERE id = $1`, [run.id]);
      expect(rows).toEqual([{ status: 'abandoned' }]);
    });
  });
}
