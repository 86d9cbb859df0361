import { api, FIXTURES, token, waitFor, useTestDaemon } from '../support/daemon.js';
import { testDatabaseKinds } from '../support/databases.js';

const admin = token('ops', ['admin']);
const alice = token('alice', ['user']);

const yaml = `
pipelines:
  main:
    command: ["node", "examples/pipelines/main.mjs"]
    timeout: 1m
  ok:
    command: ["${FIXTURES}/exit-0.sh"]
  exit3:
    command: ["${FIXTURES}/exit-3.sh"]
  missing:
    command: ["${FIXTURES}/does-not-exist"]
  slow:
    command: ["${FIXTURES}/ignore-term.sh"]
    timeout: 1s
    killGrace: 1s
  flood:
    command: ["node", "${FIXTURES}/flood.mjs", "50"]
    maxOutputBytes: 1MiB
  env:
    command: ["${FIXTURES}/echo-env.sh"]
  hog:
    # Held 3 s: the sampler looks every 500 ms, and on a loaded CI machine 1.5 s gave it too few looks.
    command: ["node", "${FIXTURES}/hog.mjs", "3"]
  parent:
    command: ["tr '\\\\0' ' ' < /proc/$PPID/cmdline"]
    shell: true
jobs:
  main_pipeline_v2:
    name: Main Video Pipeline (main_v2)
    pipeline: main
    every: 5h
    overlap: skip
    params: { stepMs: 10 }
  exit3: { pipeline: exit3, every: 5h }
  missing: { pipeline: missing, every: 5h }
  slow: { pipeline: slow, every: 5h }
  flood: { pipeline: flood, every: 5h }
  env: { pipeline: env, every: 5h }
  hog: { pipeline: hog, every: 5h }
  parent: { pipeline: parent, every: 5h }
`;

describe.each(testDatabaseKinds())('the daemon on %s', (kind) => {
  const daemon = useTestDaemon(kind, yaml, { DATABASE_PASSWORD_FOR_TEST: 'leak-me-not' });

  const finished = (runId: string) =>
    waitFor(async () => {
      const { body } = await api(daemon, 'GET', `/api/cron/runs/${runId}`, { token: admin });
      return ['queued', 'running'].includes(body.status) ? null : body;
    }, 30_000, `run ${runId} to finish`);

  const trigger = async (jobId: string, params?: object) => {
    const response = await api(daemon, 'POST', `/api/cron/jobs/${jobId}/trigger`, { token: admin, body: params ? { params } : undefined });
    expect(response.status).toBe(202);
    expect(response.headers.get('location')).toBe(`/api/cron/runs/${response.body.id}`);
    return response.body;
  };

  it('lists the main pipeline job with its schedule and next run', async () => {
    const { status, body } = await api(daemon, 'GET', '/api/cron/jobs', { token: alice });
    expect(status).toBe(200);
    const main = body.find((job: { id: string }) => job.id === 'main_pipeline_v2');
    expect(main).toMatchObject({ name: 'Main Video Pipeline (main_v2)', every: '5h', owner: 'system', source: 'config', paused: false, overlap: 'skip' });
    expect(Date.parse(main.nextRunAt)).toBeGreaterThan(Date.now() + 4.9 * 3600_000);
  });

  it('runs a triggered job to success and keeps its output', async () => {
    const run = await trigger('main_pipeline_v2');
    expect(run).toMatchObject({ jobId: 'main_pipeline_v2', status: 'queued', trigger: 'manual', triggeredBy: 'ops' });
    const done = await finished(run.id);
    expect(done).toMatchObject({ status: 'succeeded', exitCode: 0, signal: null, error: null, attempt: 1 });
    expect(done.nodeId).toBe(daemon.daemon.node.id);
    expect(done.durationMs).toBeGreaterThan(0);
    const output = await api(daemon, 'GET', `/api/cron/runs/${run.id}/output`, { token: admin });
    expect(output.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(output.body).toContain('main pipeline: finished');
    expect(output.body).toContain('"stepMs":10');
  });

  it('records a non-zero exit as failed with its code', async () => {
    const done = await finished((await trigger('exit3')).id);
    expect(done).toMatchObject({ status: 'failed', exitCode: 3, error: 'exited with code 3' });
  });

  it('records a missing program as failed with the spawn error', async () => {
    const done = await finished((await trigger('missing')).id);
    expect(done.status).toBe('failed');
    expect(done.error).toMatch(/ENOENT/);
  });

  it('kills a run past its timeout and marks it timed_out within timeout + killGrace', async () => {
    const done = await finished((await trigger('slow')).id);
    expect(done.status).toBe('timed_out');
    expect(done.error).toMatch(/timed out after 1s.*SIGKILL/);
    expect(done.durationMs).toBeGreaterThanOrEqual(1_900);
    expect(done.durationMs).toBeLessThan(2_000 + 1_500);
  });

  it('completes a child writing 50 MiB and stores no more than the cap', async () => {
    const done = await finished((await trigger('flood')).id);
    expect(done).toMatchObject({ status: 'succeeded', outputBytes: 50 * 1024 * 1024, outputTruncated: true });
    expect(done.outputDroppedBytes).toBe(50 * 1024 * 1024 - 1024 * 1024);
    const output = await api(daemon, 'GET', `/api/cron/runs/${done.id}/output`, { token: admin });
    expect(output.body).toMatch(/\[cronwarden: 51380224 bytes of output dropped here\]/);
    expect(Buffer.byteLength(output.body)).toBeLessThan(1024 * 1024 + 200);
  });

  it('does not pass the daemon secrets to children, but passes the run variables', async () => {
    const done = await finished((await trigger('env', { answer: 42 })).id);
    const output: string = (await api(daemon, 'GET', `/api/cron/runs/${done.id}/output?stream=stdout`, { token: admin })).body;
    expect(output).not.toMatch(/JWT_SECRET|DATABASE_URL|DATABASE_PASSWORD_FOR_TEST|leak-me-not/);
    expect(output).toContain(`CRONWARDEN_RUN_ID=${done.id}`);
    expect(output).toContain('CRONWARDEN_JOB_ID=env');
    expect(output).toContain('CRONWARDEN_TRIGGER=manual');
    expect(output).toContain('JOB_INPUT={"answer":42}');
  });

  it('starts children from its small spawner process, not by forking itself', async () => {
    const done = await finished((await trigger('parent')).id);
    expect(done.status).toBe('succeeded');
    const output: string = (await api(daemon, 'GET', `/api/cron/runs/${done.id}/output?stream=stdout`, { token: admin })).body;
    expect(output.trim()).toBe('cronwarden-spawner');
  });

  it("records the peak memory and CPU time of the run's processes", async () => {
    const done = await finished((await trigger('hog')).id);
    expect(done.status).toBe('succeeded');
    expect(done.peakRssBytes).toBeGreaterThan(100 * 1024 * 1024);
    expect(done.cpuSeconds).toBeGreaterThan(0.5);
  });

  it('keeps a user from pausing or triggering the system job (403) but lets an admin', async () => {
    expect((await api(daemon, 'POST', '/api/cron/jobs/main_pipeline_v2/pause', { token: alice })).status).toBe(403);
    expect((await api(daemon, 'POST', '/api/cron/jobs/main_pipeline_v2/trigger', { token: alice })).status).toBe(403);
    const paused = await api(daemon, 'POST', '/api/cron/jobs/main_pipeline_v2/pause', { token: admin, body: { note: 'maintenance' } });
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ paused: true, pauseNote: 'maintenance', pausedBy: 'ops', nextRunAt: null });
    const resumed = await api(daemon, 'POST', '/api/cron/jobs/main_pipeline_v2/resume', { token: admin });
    expect(resumed.body).toMatchObject({ paused: false, pauseNote: null });
  });

  it('answers 401 without a token, 404 for an unknown job or run, 400 for a bad body', async () => {
    expect((await api(daemon, 'GET', '/api/cron/jobs')).status).toBe(401);
    expect((await api(daemon, 'GET', '/api/cron/jobs/nope', { token: admin })).status).toBe(404);
    expect((await api(daemon, 'POST', '/api/cron/jobs/nope/trigger', { token: admin })).status).toBe(404);
    expect((await api(daemon, 'GET', '/api/cron/runs/00000000-0000-4000-8000-000000000000', { token: admin })).status).toBe(404);
    expect((await api(daemon, 'GET', '/api/cron/runs/not-a-uuid', { token: admin })).status).toBe(404);
    const bad = await api(daemon, 'POST', '/api/cron/jobs/exit3/trigger', { token: admin, body: { params: 'x' } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('params');
  });

  it('pages a job history newest first', async () => {
    const first = await api(daemon, 'GET', '/api/cron/jobs/exit3/runs?limit=1', { token: admin });
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(1);
    expect(first.body.nextCursor).toBeNull();
  });

  it('answers the health check', async () => {
    const health = await api(daemon, 'GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body.info.database.status).toBe('up');
    expect(health.body.info.scheduler.status).toBe('up');
    // Balancers that probe with HEAD get the same status, and no body.
    const head = await fetch(`${daemon.url}/health`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });
});
