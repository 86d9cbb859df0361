import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Database } from '../../src/database/database.js';
import { ExecutorService } from '../../src/executor/executor.service.js';
import { bootId, processStartToken } from '../../src/executor/process-identity.js';
import { ReaperService } from '../../src/nodes/reaper.service.js';
import { api, createTestStore, FIXTURES, startTestDaemon, token, waitFor, type TestDaemon, type TestStore } from '../support/daemon.js';
import { testDatabaseKinds } from '../support/databases.js';

const admin = token('ops', ['admin']);

const yaml = `
daemon:
  heartbeatInterval: 200ms
  nodeTimeout: 1s
  shutdownGrace: 1s
pipelines:
  ok:
    command: ["${FIXTURES}/exit-0.sh"]
    retries: { max: 1, backoff: 0s }
  fails:
    command: ["${FIXTURES}/exit-3.sh"]
    retries: { max: 2, backoff: 1s, factor: 2 }
  slow:
    command: ["${FIXTURES}/sleep.sh", "30"]
    retries: { max: 3, backoff: 1h }
jobs:
  reaped: { pipeline: ok, every: 5h }
  fails: { pipeline: fails, every: 5h }
  slow: { pipeline: slow, every: 5h }
  waits: { pipeline: ok, every: 5h, overlap: queue }
`;

interface Run { id: string; status: string; trigger: string; attempt: number; parentRunId: string | null; error: string | null; finishedAt: string | null; nodeId: string | null }

describe.each(testDatabaseKinds())('the reaper on %s', (kind) => {
  let store: TestStore;
  let daemon: TestDaemon;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    store = await createTestStore(kind);
    daemon = await startTestDaemon(store, yaml);
  });
  afterAll(async () => {
    children.forEach((child) => child.kill('SIGKILL'));
    await daemon?.close();
    await store?.dispose();
  });

  const sql = <T = Record<string, unknown>>(query: string, params: unknown[] = []) => daemon.daemon.app.get(Database).rows<T>(query, params);
  const runsOf = async (jobId: string): Promise<Run[]> => (await api(daemon, 'GET', `/api/cron/jobs/${jobId}/runs?limit=100`, { token: admin })).body.items;
  const deadNode = async () => {
    const id = `dead-${randomUUID()}`;
    await sql(`INSERT INTO cw_nodes (id, hostname, pid, version, heartbeat_at) VALUES ($1, $2, 999999, '0.0.0', now() - interval '1 hour')`, [id, hostname()]);
    return id;
  };
  const runningRun = async (jobId: string, nodeId: string, pid: number | null = null, processStart: string | null = null) => {
    const id = randomUUID();
    await sql(
      `INSERT INTO cw_runs (id, job_id, status, trigger, scheduled_for, started_at, node_id, pid, process_start, triggered_by)
       VALUES ($1, $2, 'running', 'manual', now(), now() - interval '1 minute', $3, $4, $5, 'ops')`,
      [id, jobId, nodeId, pid, processStart],
    );
    return id;
  };
  const sleeper = () => {
    const child = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
    children.push(child);
    return child;
  };

  it('marks the runs of a node that stopped heartbeating abandoned, saying why, and retries them on a live node', async () => {
    const node = await deadNode();
    const runId = await runningRun('reaped', node);
    const runs = await waitFor(async () => {
      const found = await runsOf('reaped');
      return found.some((run) => run.trigger === 'retry' && run.status === 'succeeded') ? found : null;
    }, 10_000, 'the abandoned run to be retried');
    const abandoned = runs.find((run) => run.id === runId)!;
    expect(abandoned.status).toBe('abandoned');
    expect(abandoned.error).toMatch(new RegExp(`its node ${node} \\(.+, pid 999999\\) stopped heartbeating: last heartbeat .+, more than nodeTimeout \\(1s\\) ago; abandoned by node ${daemon.daemon.node.id}`));
    expect(abandoned.finishedAt).not.toBeNull();
    const retries = runs.filter((run) => run.parentRunId === runId);
    expect(retries).toEqual([expect.objectContaining({ trigger: 'retry', attempt: 2, status: 'succeeded', nodeId: daemon.daemon.node.id })]);
  });

  it('waits nodeTimeout after its own heartbeats failed before it declares any other node dead (all heartbeats are old after an outage)', async () => {
    daemon.daemon.app.get(ReaperService).noteHeartbeat(false);
    const missedAt = Date.now();
    const runId = await runningRun('reaped', await deadNode());
    await waitFor(async () => (await sql<{ status: string }>('SELECT status FROM cw_runs WHERE id = $1', [runId]))[0].status === 'abandoned', 5_000, 'the run to be reaped');
    // nodeTimeout is 1s: without the wait it would be reaped on the next pass, 200 ms later.
    expect(Date.now() - missedAt).toBeGreaterThanOrEqual(950);
  });

  it('kills the still living process group of an abandoned run of this host, but never a process that reuses a recorded pid', async () => {
    const orphan = sleeper();
    const stranger = sleeper();
    const node = await deadNode();
    await runningRun('slow', node, orphan.pid!, processStartToken(orphan.pid!));
    // Same pid as a live process, but another start time: the pid was reused, so it must be left alone.
    const reusedId = await runningRun('slow', node, stranger.pid!, `${bootId()}:1`);
    const [, signal] = await once(orphan, 'exit');
    expect(signal).toBe('SIGTERM');
    await waitFor(async () => (await sql<{ status: string }>('SELECT status FROM cw_runs WHERE id = $1', [reusedId]))[0].status === 'abandoned', 5_000, 'the second run reaped');
    // Two more passes of the reaper (200 ms apart) have had their chance to kill it.
    await waitFor(async () => (await sql<{ n: number }>(`SELECT count(*)::int AS n FROM cw_runs WHERE parent_run_id = $1`, [reusedId]))[0].n === 1, 5_000, 'its retry');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(stranger.exitCode).toBeNull();
    expect(stranger.signalCode).toBeNull();
  });

  it('retries a failed run with backoff times factor per attempt, up to the maximum, each retry linked to its parent', async () => {
    await api(daemon, 'POST', '/api/cron/jobs/fails/trigger', { token: admin });
    const runs = await waitFor(async () => {
      const found = await runsOf('fails');
      return found.length === 3 && found.every((run) => run.status === 'failed') ? found : null;
    }, 15_000, 'three failed attempts');
    const byAttempt = [...runs].sort((a, b) => a.attempt - b.attempt);
    expect(byAttempt.map((run) => [run.trigger, run.attempt])).toEqual([['manual', 1], ['retry', 2], ['retry', 3]]);
    expect(byAttempt[1].parentRunId).toBe(byAttempt[0].id);
    expect(byAttempt[2].parentRunId).toBe(byAttempt[1].id);
    const rows = await sql<{ attempt: number; waitMs: number }>(
      `SELECT r.attempt, extract(epoch FROM r.not_before - p.finished_at) * 1000 AS "waitMs"
       FROM cw_runs r JOIN cw_runs p ON p.id = r.parent_run_id WHERE r.job_id = 'fails' ORDER BY r.attempt`,
    );
    expect(rows.map((row) => Math.round(Number(row.waitMs) / 500) * 500)).toEqual([1_000, 2_000]);
    // The third attempt was the last one the policy allows: nothing more is queued.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await runsOf('fails')).toHaveLength(3);
  });

  it('does not retry a cancelled run', async () => {
    const { body: run } = await api(daemon, 'POST', '/api/cron/jobs/slow/trigger', { token: admin });
    await waitFor(async () => (await sql<{ pid: number | null }>('SELECT pid FROM cw_runs WHERE id = $1', [run.id]))[0].pid, 10_000, 'the run to start');
    daemon.daemon.app.get(ExecutorService).abortLocal(run.id, 'cancelled by the test');
    await waitFor(async () => (await api(daemon, 'GET', `/api/cron/runs/${run.id}`, { token: admin })).body.status === 'cancelled', 10_000, 'the cancel');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await sql('SELECT id FROM cw_runs WHERE parent_run_id = $1', [run.id])).toEqual([]);
  });

  it('lists the nodes to admins, alive and dead, each with its running runs, and refuses anyone else', async () => {
    const { body: run } = await api(daemon, 'POST', '/api/cron/jobs/slow/trigger', { token: admin });
    const self = await waitFor(async () => {
      const { body } = await api(daemon, 'GET', '/api/cron/nodes', { token: admin });
      const node = body.find((n: { self: boolean }) => n.self);
      return node?.runningRuns.some((r: { id: string; pid: number | null }) => r.id === run.id && r.pid) ? { node, all: body } : null;
    }, 10_000, 'the node listing to show the run');
    expect(self.node).toMatchObject({ id: daemon.daemon.node.id, hostname: hostname(), pid: process.pid, status: 'alive', stoppedAt: null });
    expect(self.node.runningRuns).toEqual([expect.objectContaining({ id: run.id, jobId: 'slow', trigger: 'manual', attempt: 1, pid: expect.any(Number) })]);
    expect(self.all.filter((n: { id: string }) => n.id.startsWith('dead-')).map((n: { status: string }) => n.status)).toEqual(expect.arrayContaining(['dead']));
    expect((await api(daemon, 'GET', '/api/cron/nodes', { token: token('alice', ['user']) })).status).toBe(403);
    daemon.daemon.app.get(ExecutorService).abortLocal(run.id, 'test over');
  });

  it('fails a run that waited in the queue longer than queueTimeout, saying what it waited for', async () => {
    const blocker = await runningRun('waits', daemon.daemon.node.id);
    const id = randomUUID();
    await sql(`INSERT INTO cw_runs (id, job_id, status, trigger, queued_at, triggered_by) VALUES ($1, 'waits', 'queued', 'manual', now() - interval '2 hours', 'ops')`, [id]);
    const run = await waitFor(async () => {
      const { body } = await api(daemon, 'GET', `/api/cron/runs/${id}`, { token: admin });
      return body.status === 'failed' ? body : null;
    }, 5_000, 'the stale queued run to fail');
    expect(run.error).toBe('still queued after queueTimeout (1h): it waited behind a running run of the job');
    await sql(`DELETE FROM cw_runs WHERE id = $1`, [blocker]);
  });

  it('spends one read, no transaction, on a pass that finds no run of a dead node to reap', async () => {
    const database = daemon.daemon.app.get(Database);
    const reaper = daemon.daemon.app.get(ReaperService);
    await waitFor(async () => (await sql(`SELECT 1 FROM cw_runs r JOIN cw_nodes n ON n.id = r.node_id
      WHERE r.status = 'running' AND (n.stopped_at IS NOT NULL OR n.heartbeat_at < now() - interval '1 second')`)).length === 0, 10_000, 'no run of a dead node left');
    // Reaping starts nodeTimeout (1 s) after the node's first heartbeat: run alone, this test must wait for it.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    const statements: string[] = [];
    database.dataSource.subscribers.push({ beforeQuery: (event) => void statements.push(event.query) });
    // Two passes of our own, and whatever the reaper's own timer (200 ms) runs meanwhile.
    await reaper.tick();
    await reaper.tick();
    expect(statements.filter((query) => /^(START TRANSACTION|BEGIN)/i.test(query.trim()))).toEqual([]);
    expect(statements.filter((query) => query.includes('EXISTS (SELECT 1 FROM cw_runs r JOIN cw_nodes n')).length).toBeGreaterThanOrEqual(1);
  });
});
