import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, createTestStore, FIXTURES, startTestDaemon, token, waitFor, type TestDaemon, type TestStore } from '../support/daemon.js';
import { testDatabaseKinds } from '../support/databases.js';
import { processExists } from '../support/processes.js';
import { collectEvents } from '../support/sse.js';

const admin = token('ops', ['admin']);
const alice = token('alice', ['user']);
const bob = token('bob', ['user']);


describe.each(testDatabaseKinds())('the run API on %s', (kind) => {
  let store: TestStore;
  let daemon: TestDaemon;
  let scratch: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'cw-runs-'));
    store = await createTestStore(kind);
    daemon = await startTestDaemon(store, `
daemon:
  maxConcurrentRuns: 8
pipelines:
  ok:
    command: ["${FIXTURES}/exit-0.sh"]
  env:
    command: ["${FIXTURES}/echo-env.sh"]
  interleave:
    command: ["${FIXTURES}/interleave.sh"]
  sleepy:
    command: ["${FIXTURES}/sleep.sh", "30"]
    killGrace: 1s
  stubborn:
    command: ["${FIXTURES}/ignore-term.sh", "30"]
    killGrace: 1s
  grandchild:
    command: ["${FIXTURES}/spawn-grandchild.sh", "${scratch}/grandchild.pid"]
    killGrace: 2s
  steps:
    command: ["node", "${FIXTURES}/progress.mjs", "4", "500"]
  reporter:
    command: ["node", "examples/pipelines/main.mjs"]
  byname:
    command: ["${FIXTURES}/by-name.sh"]
jobs:
  system-ok: { pipeline: ok, every: 5h }
`);
    for (const [id, pipeline, overlap] of [['quick', 'ok', 'allow'], ['envy', 'env', 'allow'], ['chatty', 'interleave', 'allow'],
      ['sleeper', 'sleepy', 'queue'], ['stubborn', 'stubborn', 'allow'], ['parent', 'grandchild', 'allow'], ['steps', 'steps', 'allow'], ['reporter', 'reporter', 'allow'], ['byname', 'byname', 'allow']]) {
      const created = await api(daemon, 'POST', '/api/cron/jobs', { token: alice, body: { id, pipeline, every: '5h', overlap, params: { a: 1, b: 2 } } });
      expect(created.status).toBe(201);
    }
  });
  afterAll(async () => {
    await daemon?.close();
    await store?.dispose();
    await rm(scratch, { recursive: true, force: true });
  });

  const call = (method: string, path: string, as: string, body?: unknown) => api(daemon, method, path, { token: as, body });
  const trigger = async (jobId: string, body?: object, as = alice) => {
    const response = await call('POST', `/api/cron/jobs/${jobId}/trigger`, as, body);
    expect(response.status).toBe(202);
    return response.body;
  };
  const finished = (runId: string) => waitFor(async () => {
    const { body } = await call('GET', `/api/cron/runs/${runId}`, admin);
    return ['queued', 'running'].includes(body.status) ? null : body;
  }, 15_000, `run ${runId} to end`);
  const outputOf = async (runId: string, query = '') => (await call('GET', `/api/cron/runs/${runId}/output${query}`, alice)).body as string;
  const started = (runId: string, text = 'ready') => waitFor(async () => (await outputOf(runId)).includes(text), 10_000, `run ${runId} to print ${text}`);

  it('merges trigger params over the job params', async () => {
    const run = await finished((await trigger('envy', { params: { b: 3, c: 'x' } })).id);
    expect(run.params).toEqual({ a: 1, b: 3, c: 'x' });
    expect(await outputOf(run.id)).toContain('JOB_INPUT={"a":1,"b":3,"c":"x"}');
  });

  it('lists runs newest first with filters, and pages stably while runs are added', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await trigger('quick')).id);
    await Promise.all(ids.map(finished));
    const first = await call('GET', '/api/cron/runs?jobId=quick&limit=2', alice);
    expect(first.status).toBe(200);
    expect(first.body.items.map((run: { id: string }) => run.id)).toEqual([ids[4], ids[3]]);
    // New runs queued between pages land before the first page; later pages neither repeat nor skip.
    await trigger('quick');
    const second = await call('GET', `/api/cron/runs?jobId=quick&limit=2&cursor=${first.body.nextCursor}`, alice);
    expect(second.body.items.map((run: { id: string }) => run.id)).toEqual([ids[2], ids[1]]);
    const third = await call('GET', `/api/cron/runs?jobId=quick&limit=2&cursor=${second.body.nextCursor}`, alice);
    expect(third.body).toEqual({ items: [expect.objectContaining({ id: ids[0] })], nextCursor: null });

    const since = encodeURIComponent(first.body.items[0].queuedAt);
    const recent = await call('GET', `/api/cron/runs?jobId=quick&since=${since}&status=succeeded,queued,running&trigger=manual`, alice);
    expect(recent.body.items.map((run: { id: string }) => run.id)).toContain(ids[4]);
    expect(recent.body.items.map((run: { id: string }) => run.id)).not.toContain(ids[3]);
    expect((await call('GET', '/api/cron/runs?status=failed&jobId=quick', alice)).body.items).toEqual([]);
  });

  it('rejects bad list queries with 400 naming the parameter', async () => {
    for (const [query, field] of [['limit=501', 'limit'], ['limit=0', 'limit'], ['status=done', 'status'], ['trigger=cron', 'trigger'],
      ['since=yesterday', 'since'], ['cursor=bm9wZQ', 'cursor'], ['jobId=NO%20WAY', 'jobId']]) {
      const response = await call('GET', `/api/cron/runs?${query}`, alice);
      expect([query, response.status, response.body.field]).toEqual([query, 400, field]);
    }
  });

  it("shows users their own and the system's runs only", async () => {
    const system = await trigger('system-ok', undefined, admin);
    const mine = await trigger('quick');
    const jobsSeenBy = async (as: string) => new Set((await call('GET', '/api/cron/runs?limit=500', as)).body.items.map((run: { jobId: string }) => run.jobId));
    expect(await jobsSeenBy(bob)).toEqual(new Set(['system-ok']));
    expect([...(await jobsSeenBy(alice))]).toEqual(expect.arrayContaining(['quick', 'system-ok']));
    expect((await call('GET', `/api/cron/runs/${mine.id}`, bob)).status).toBe(404);
    expect((await call('GET', `/api/cron/runs/${mine.id}/output`, bob)).status).toBe(404);
    expect((await call('POST', `/api/cron/runs/${mine.id}/cancel`, bob)).status).toBe(404);
    expect((await call('GET', `/api/cron/runs/${system.id}`, bob)).status).toBe(200);
  });

  it('cancels a queued run at once and records who did it and why', async () => {
    const running = await trigger('sleeper');
    await started(running.id);
    // overlap: queue holds the second run while the first runs.
    const queued = await trigger('sleeper');
    const cancel = await call('POST', `/api/cron/runs/${queued.id}/cancel`, alice, { reason: 'not needed' });
    expect(cancel.status).toBe(200);
    expect(cancel.body).toMatchObject({ id: queued.id, status: 'cancelled', cancelRequestedBy: 'alice', error: 'cancelled by alice: not needed' });
    expect((await call('POST', `/api/cron/runs/${queued.id}/cancel`, alice)).status).toBe(409);
    expect((await call('POST', `/api/cron/runs/${running.id}/cancel`, alice)).status).toBe(202);
    expect((await finished(running.id)).status).toBe('cancelled');
  });

  it('kills the whole process group of a cancelled run, a grandchild too', async () => {
    const run = await trigger('parent');
    await started(run.id);
    const grandchild = Number((await readFile(join(scratch, 'grandchild.pid'), 'utf8')).trim());
    expect(processExists(grandchild)).toBe(true);
    const cancel = await call('POST', `/api/cron/runs/${run.id}/cancel`, alice);
    expect(cancel).toMatchObject({ status: 202, body: { status: 'running', cancelRequestedBy: 'alice' } });
    const done = await finished(run.id);
    expect(done).toMatchObject({ status: 'cancelled', cancelRequestedBy: 'alice', signal: 'SIGTERM' });
    await waitFor(async () => !processExists(grandchild), 5_000, `grandchild ${grandchild} to be gone`);
  });

  it('kills a cancelled run that ignores SIGTERM with SIGKILL after killGrace', async () => {
    const run = await trigger('stubborn');
    await started(run.id);
    const asked = Date.now();
    expect((await call('POST', `/api/cron/runs/${run.id}/cancel`, alice)).status).toBe(202);
    const done = await finished(run.id);
    expect(done).toMatchObject({ status: 'cancelled', signal: 'SIGKILL' });
    expect(done.error).toMatch(/SIGKILL/);
    expect(Date.now() - asked).toBeGreaterThanOrEqual(900);
  });

  it('answers 409 to cancelling a finished run and 403 to a user cancelling a system run', async () => {
    const done = await finished((await trigger('quick')).id);
    expect((await call('POST', `/api/cron/runs/${done.id}/cancel`, alice)).status).toBe(409);
    const system = await finished((await trigger('system-ok', undefined, admin)).id);
    expect((await call('POST', `/api/cron/runs/${system.id}/cancel`, alice)).status).toBe(403);
  });

  it('lets a command write to /dev/stdout and /dev/stderr by name, and stores both', async () => {
    const run = await finished((await trigger('byname')).id);
    expect(run).toMatchObject({ status: 'succeeded', exitCode: 0 });
    expect(await outputOf(run.id)).toBe('to stdout\nto stderr\n');
    expect(await outputOf(run.id, '?stream=stderr')).toBe('to stderr\n');
  });

  it('serves the last lines of the output, of one stream or both', async () => {
    const run = await finished((await trigger('chatty')).id);
    expect(await outputOf(run.id)).toBe('out 1\nerr 1\nout 2\nerr 2\nout 3\nerr 3\nout 4\nerr 4\n');
    expect(await outputOf(run.id, '?tail=3')).toBe('err 3\nout 4\nerr 4\n');
    expect(await outputOf(run.id, '?stream=stdout&tail=2')).toBe('out 3\nout 4\n');
    expect((await call('GET', `/api/cron/runs/${run.id}/output?tail=0`, alice)).status).toBe(400);
  });

  it('streams a line the child writes while it still runs, then the end with the final status', async () => {
    const run = await trigger('steps');
    const { status, contentType, events } = await collectEvents(`${daemon.url}/api/cron/runs/${run.id}/output/stream`, alice);
    expect(status).toBe(200);
    expect(contentType).toMatch(/^text\/event-stream/);
    const outputs = events.filter((event) => event.event === 'output');
    expect(outputs.map((event) => event.data.text).join('')).toBe('step 1/4\nstep 2/4\nstep 3/4\nstep 4/4\n');
    const end = events[events.length - 1];
    expect(end).toMatchObject({ event: 'end', data: { id: run.id, status: 'succeeded', exitCode: 0 } });
    // Lines come 500 ms apart: the first one arrived well before the run ended, not in one batch at the end.
    expect(end.at - outputs[0].at).toBeGreaterThan(1_000);
    expect(events.filter((event) => event.event === 'run').map((event) => event.data.status)).toContain('running');
  });

  it('streams stored output of a finished run, filtered by stream, and ends at once', async () => {
    const run = await finished((await trigger('chatty')).id);
    const { events } = await collectEvents(`${daemon.url}/api/cron/runs/${run.id}/output/stream?stream=stderr`, alice);
    expect(events.filter((event) => event.event === 'output').map((event) => event.data.text).join('')).toBe('err 1\nerr 2\nerr 3\nerr 4\n');
    expect(events.map((event) => event.event)).toEqual(['run', ...Array(events.length - 2).fill('output'), 'end']);
  });

  it('ends the stream of a run cancelled while it is watched', async () => {
    const run = await trigger('sleeper');
    const { events } = await collectEvents(`${daemon.url}/api/cron/runs/${run.id}/output/stream`, alice, async (event) => {
      if (event.event === 'output' && event.data.text.includes('ready')) await call('POST', `/api/cron/runs/${run.id}/cancel`, alice);
    });
    expect(events[events.length - 1]).toMatchObject({ event: 'end', data: { status: 'cancelled' } });
  });

  it('follows ::progress lines of stdout in the run and the stream, and keeps them in the output', async () => {
    const run = await trigger('reporter', { params: { stepMs: 300 } });
    const seenWhileRunning: Array<number | null> = [];
    const { events } = await collectEvents(`${daemon.url}/api/cron/runs/${run.id}/output/stream`, alice, async (event) => {
      if (event.event === 'progress' && event.data.progress === 50) seenWhileRunning.push((await call('GET', `/api/cron/runs/${run.id}`, alice)).body.progress);
    });
    expect(events.filter((event) => event.event === 'progress').map((event) => event.data)).toEqual([
      { progress: 0, note: 'fetch sources' }, { progress: 25, note: 'transcode video' }, { progress: 50, note: 'render thumbnails' },
      { progress: 75, note: 'publish' }, { progress: 100, note: 'done' },
    ]);
    expect(seenWhileRunning[0]).toBeGreaterThanOrEqual(50);
    expect((await call('GET', `/api/cron/runs/${run.id}`, alice)).body).toMatchObject({ status: 'succeeded', progress: 100, progressNote: 'done' });
    expect(await outputOf(run.id)).toContain('::progress 50 render thumbnails\n');
    expect((await call('GET', `/api/cron/runs/${(await finished((await trigger('quick')).id)).id}`, alice)).body).toMatchObject({ progress: null, progressNote: null });
  });

  it("answers 404 to a stream of another user's run and 401 without a token", async () => {
    const run = await trigger('quick');
    expect((await collectEvents(`${daemon.url}/api/cron/runs/${run.id}/output/stream`, bob)).status).toBe(404);
    expect((await fetch(`${daemon.url}/api/cron/runs/${run.id}/output/stream`)).status).toBe(401);
  });
});
