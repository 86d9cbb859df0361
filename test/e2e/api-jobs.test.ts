import { Database } from '../../src/database/database.js';
import { RunsRepository } from '../../src/runs/runs.repository.js';
import { api, FIXTURES, token, waitFor, useTestDaemon } from '../support/daemon.js';
import { testDatabaseKinds } from '../support/databases.js';

const admin = token('ops', ['admin']);
const alice = token('alice', ['user']);
const bob = token('bob', ['user']);

const yaml = `
pipelines:
  ok:
    command: ["${FIXTURES}/exit-0.sh"]
  sleepy:
    command: ["${FIXTURES}/sleep.sh", "30"]
    killGrace: 1s
jobs:
  nightly:
    pipeline: ok
    cron: "0 3 * * *"
    timezone: Europe/Berlin
`;

describe.each(testDatabaseKinds())('the job API on %s', (kind) => {
  const daemon = useTestDaemon(kind, yaml);

  const call = (method: string, path: string, as: string, body?: unknown) => api(daemon, method, path, { token: as, body });
  const create = async (body: object, as = alice) => {
    const response = await call('POST', '/api/cron/jobs', as, body);
    expect(response.status).toBe(201);
    return response.body;
  };

  it('creates, reads, lists, changes and deletes a job', async () => {
    const created = await call('POST', '/api/cron/jobs', alice, {
      id: 'report', name: 'Weekly report', pipeline: 'ok', cron: '0 6 * * 1', timezone: 'Europe/Berlin', params: { to: 'team' },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/api/cron/jobs/report');
    expect(created.body).toMatchObject({
      id: 'report', name: 'Weekly report', pipeline: 'ok', cron: '0 6 * * 1', every: null, timezone: 'Europe/Berlin',
      params: { to: 'team' }, overlap: 'skip', catchup: 'once', catchupWindow: '6h', jitter: '0ms', owner: 'alice', source: 'api', paused: false, lastRun: null,
    });
    expect(new Date(created.body.nextRunAt).getUTCDay()).toBe(1);

    expect((await call('GET', '/api/cron/jobs/report', alice)).body).toEqual({ ...created.body, stats: expect.objectContaining({ runs: 0 }) });
    const listed = (await call('GET', '/api/cron/jobs', alice)).body.map((job: { id: string }) => job.id);
    expect(listed).toEqual(expect.arrayContaining(['report', 'nightly']));

    const changed = await call('PATCH', '/api/cron/jobs/report', alice, { name: 'Daily report', every: '1d', params: { to: 'all' } });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ id: 'report', name: 'Daily report', cron: null, every: '1d', params: { to: 'all' }, owner: 'alice' });

    expect((await call('DELETE', '/api/cron/jobs/report', alice)).status).toBe(204);
    expect((await call('GET', '/api/cron/jobs/report', alice)).status).toBe(404);
    expect((await call('GET', '/api/cron/jobs', alice)).body.map((job: { id: string }) => job.id)).not.toContain('report');
    expect((await call('DELETE', '/api/cron/jobs/report', alice)).status).toBe(404);
    // A deleted job's id may be used again.
    expect((await call('POST', '/api/cron/jobs', alice, { id: 'report', pipeline: 'ok', every: '1h' })).status).toBe(201);
  });

  it('generates a slug id from the name when none is given', async () => {
    const job = await create({ name: 'Clean up the Tmp dir!', pipeline: 'ok', every: '1h' });
    expect(job.id).toMatch(/^clean-up-the-tmp-dir-[0-9a-f]{8}$/);
    expect((await create({ pipeline: 'ok', every: '1h' })).id).toMatch(/^job-[0-9a-f]{8}$/);
  });

  it('fires on a changed cron expression without a restart', async () => {
    const job = await create({ pipeline: 'ok', cron: '0 0 1 1 *', overlap: 'allow' });
    const changed = await call('PATCH', `/api/cron/jobs/${job.id}`, alice, { cron: '* * * * * *' });
    expect(changed.status).toBe(200);
    expect(Date.parse(changed.body.nextRunAt) - Date.now()).toBeLessThan(2_000);
    const run = await waitFor(async () => {
      const { body } = await call('GET', `/api/cron/jobs/${job.id}/runs`, alice);
      return body.items.find((item: { trigger: string; status: string }) => item.trigger === 'schedule' && item.status === 'succeeded');
    }, 10_000, 'a scheduled run of the changed job');
    expect(run.jobId).toBe(job.id);
    expect((await call('DELETE', `/api/cron/jobs/${job.id}`, alice)).status).toBe(204);
  });

  it('stops firing a paused job and fires it again once resumed', async () => {
    const job = await create({ pipeline: 'ok', cron: '* * * * * *', overlap: 'allow' });
    expect((await call('POST', `/api/cron/jobs/${job.id}/pause`, alice, { note: 'quiet' })).body).toMatchObject({ paused: true, nextRunAt: null });
    const countRuns = async () => (await call('GET', `/api/cron/jobs/${job.id}/runs?limit=500`, alice)).body.items.length as number;
    const before = await countRuns();
    const resumed = await call('POST', `/api/cron/jobs/${job.id}/resume`, alice);
    expect(resumed.body.paused).toBe(false);
    await waitFor(async () => (await countRuns()) > before, 10_000, 'a run after resume');
    await call('DELETE', `/api/cron/jobs/${job.id}`, alice);
  });

  it('answers 409 to a duplicate id and to redefining, changing or deleting a config job', async () => {
    await create({ id: 'dup', pipeline: 'ok', every: '1h' });
    const duplicate = await call('POST', '/api/cron/jobs', bob, { id: 'dup', pipeline: 'ok', every: '1h' });
    expect(duplicate).toMatchObject({ status: 409, body: { message: 'a job with id "dup" already exists' } });
    const redefine = await call('POST', '/api/cron/jobs', admin, { id: 'nightly', pipeline: 'ok', every: '1h' });
    expect(redefine.status).toBe(409);
    expect(redefine.body.message).toMatch(/config file/);
    const change = await call('PATCH', '/api/cron/jobs/nightly', admin, { name: 'renamed' });
    expect(change.status).toBe(409);
    expect(change.body.message).toMatch(/cannot be changed through the API .*only paused, resumed and triggered/);
    expect((await call('DELETE', '/api/cron/jobs/nightly', admin)).status).toBe(409);
    expect((await call('GET', '/api/cron/jobs/nightly', admin)).body.name).toBe('nightly');
  });

  it("hides another user's job behind 404 and lets users read but not change system jobs", async () => {
    const job = await create({ pipeline: 'ok', every: '1h' });
    for (const [method, path] of [['GET', ''], ['PATCH', ''], ['DELETE', ''], ['POST', '/pause'], ['POST', '/resume'], ['POST', '/trigger'], ['GET', '/runs']]) {
      const response = await call(method, `/api/cron/jobs/${job.id}${path}`, bob, method === 'PATCH' ? { name: 'mine now' } : undefined);
      expect([method, path, response.status]).toEqual([method, path, 404]);
    }
    expect((await call('GET', '/api/cron/jobs', bob)).body.map((row: { id: string }) => row.id)).not.toContain(job.id);
    expect((await call('GET', '/api/cron/jobs/nightly', bob)).status).toBe(200);
    expect((await call('PATCH', '/api/cron/jobs/nightly', bob, { name: 'x' })).status).toBe(403);
    expect((await call('DELETE', '/api/cron/jobs/nightly', bob)).status).toBe(403);
    expect((await call('POST', '/api/cron/jobs/nightly/pause', bob)).status).toBe(403);
  });

  it('lets an admin see and change every job and give a job to someone', async () => {
    const job = await create({ pipeline: 'ok', every: '1h' });
    expect((await call('GET', `/api/cron/jobs/${job.id}`, admin)).status).toBe(200);
    expect((await call('PATCH', `/api/cron/jobs/${job.id}`, admin, { owner: 'bob' })).body.owner).toBe('bob');
    expect((await call('GET', `/api/cron/jobs/${job.id}`, bob)).status).toBe(200);
    expect((await call('GET', `/api/cron/jobs/${job.id}`, alice)).status).toBe(404);
    const forCarol = await create({ pipeline: 'ok', every: '1h', owner: 'carol' }, admin);
    expect(forCarol.owner).toBe('carol');
    expect((await call('DELETE', `/api/cron/jobs/${forCarol.id}`, admin)).status).toBe(204);
  });

  it('keeps users from choosing an owner, and the system subject from owning API jobs', async () => {
    const forBob = await call('POST', '/api/cron/jobs', alice, { pipeline: 'ok', every: '1h', owner: 'bob' });
    expect(forBob.status).toBe(403);
    expect((await call('POST', '/api/cron/jobs', alice, { pipeline: 'ok', every: '1h', owner: 'system' })).status).toBe(403);
    expect((await call('POST', '/api/cron/jobs', token('system', ['user']), { pipeline: 'ok', every: '1h' })).status).toBe(403);
    const own = await create({ pipeline: 'ok', every: '1h', owner: 'alice' });
    expect((await call('PATCH', `/api/cron/jobs/${own.id}`, alice, { owner: 'bob' })).status).toBe(403);
  });

  it('filters the list by owner, paused state and pipeline', async () => {
    const sleepy = await create({ pipeline: 'sleepy', every: '7h' }, bob);
    await call('POST', `/api/cron/jobs/${sleepy.id}/pause`, bob);
    const ids = async (query: string, as = admin) => (await call('GET', `/api/cron/jobs?${query}`, as)).body.map((job: { id: string }) => job.id);
    expect(await ids('pipeline=sleepy')).toEqual([sleepy.id]);
    expect(await ids('owner=bob&paused=true')).toEqual([sleepy.id]);
    expect(await ids('owner=system')).toEqual(['nightly']);
    expect(await ids('owner=bob', alice)).toEqual([]);
    expect(await ids('paused=false')).not.toContain(sleepy.id);
    expect((await call('GET', '/api/cron/jobs?paused=maybe', admin)).status).toBe(400);
  });

  it('pages the list in id order with limit and cursor; without them it is every job, as an array', async () => {
    for (const id of ['pager-b', 'pager-c', 'pager-d', 'pager-e', 'pager-f']) await create({ id, pipeline: 'ok', every: '1h', owner: 'pager' }, admin);
    const page = async (query: string, as = admin) => {
      const response = await call('GET', `/api/cron/jobs?${query}`, as);
      expect(response.status).toBe(200);
      return response.body as { items: Array<{ id: string; nextRunAt: string }>; nextCursor: string | null };
    };
    const first = await page('owner=pager&limit=2');
    expect(first.items.map((job) => job.id)).toEqual(['pager-b', 'pager-c']);
    expect(Date.parse(first.items[0].nextRunAt)).toBeGreaterThan(Date.now());
    // A job added before the cursor does not shift the later pages.
    await create({ id: 'pager-a', pipeline: 'ok', every: '1h', owner: 'pager' }, admin);
    const second = await page(`owner=pager&limit=2&cursor=${first.nextCursor}`);
    expect(second.items.map((job) => job.id)).toEqual(['pager-d', 'pager-e']);
    const last = await page(`owner=pager&limit=2&cursor=${second.nextCursor}`);
    expect(last).toEqual({ items: [expect.objectContaining({ id: 'pager-f' })], nextCursor: null });

    const all = (await call('GET', '/api/cron/jobs?owner=pager', admin)).body;
    expect(all.map((job: { id: string }) => job.id)).toEqual(['pager-a', 'pager-b', 'pager-c', 'pager-d', 'pager-e', 'pager-f']);
    expect(all[1]).toEqual(first.items[0]);
    // A cursor alone pages too (50 to a page); a user's pages hold its own jobs and the system's.
    expect((await page(`owner=pager&cursor=${second.nextCursor}`)).items.map((job) => job.id)).toEqual(['pager-f']);
    const pager = token('pager', ['user']);
    expect((await page('limit=3', pager)).items.map((job) => job.id)).toEqual(['nightly', 'pager-a', 'pager-b']);
  });

  it('answers 400 naming the parameter to a bad page size or cursor', async () => {
    const runCursor = Buffer.from(`${new Date().toISOString()}|00000000-0000-4000-8000-000000000000`).toString('base64url');
    for (const [query, field] of [['limit=0', 'limit'], ['limit=501', 'limit'], ['limit=ten', 'limit'], ['limit=1&limit=2', 'limit'],
      ['cursor=bm9wZQ', 'cursor'], ['cursor=%24%24', 'cursor'], [`cursor=${runCursor}`, 'cursor']]) {
      const response = await call('GET', `/api/cron/jobs?${query}`, alice);
      expect([query, response.status, response.body.field]).toEqual([query, 400, field]);
    }
  });

  it('writes a manual run and its audit row together: when the audit row cannot be written, no run is queued', async () => {
    const job = await create({ id: 'unauditable', pipeline: 'ok', every: '7h', params: { a: 1, b: 1 } });
    const db = daemon.daemon.app.get(Database);
    await db.rows(`CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.job_id = 'unauditable' THEN RAISE EXCEPTION 'audit refused'; END IF; RETURN NEW; END $$`);
    await db.rows('CREATE TRIGGER refuse_audit BEFORE INSERT ON cw_audit FOR EACH ROW EXECUTE FUNCTION refuse_audit()');
    try {
      expect((await call('POST', `/api/cron/jobs/${job.id}/trigger`, alice)).status).toBe(500);
      expect((await call('GET', `/api/cron/jobs/${job.id}/runs`, alice)).body.items).toEqual([]);
    } finally {
      await db.rows('DROP TRIGGER refuse_audit ON cw_audit');
      await db.rows('DROP FUNCTION refuse_audit()');
    }
    const queued = await call('POST', `/api/cron/jobs/${job.id}/trigger`, alice, { params: { b: 2 } });
    expect(queued.status).toBe(202);
    expect(queued.headers.get('location')).toBe(`/api/cron/runs/${queued.body.id}`);
    expect(queued.body).toMatchObject({ jobId: job.id, trigger: 'manual', triggeredBy: 'alice', params: { a: 1, b: 2 } });
    const audit = (await call('GET', `/api/cron/audit?jobId=${job.id}&action=job.trigger`, admin)).body.items;
    expect(audit).toEqual([expect.objectContaining({ actor: 'alice', runId: queued.body.id, details: { params: { b: 2 } } })]);
    const ran = await waitFor(async () => {
      const { body } = await call('GET', `/api/cron/runs/${queued.body.id}`, alice);
      return body.status === 'succeeded' && body;
    }, 10_000, 'the triggered run to succeed');
    expect(ran.queuedAt).toBe(queued.body.queuedAt);
  });

  it('triggers a paused job by hand, and answers 404 for a deleted or unknown one and writes nothing', async () => {
    const job = await create({ pipeline: 'ok', every: '7h' });
    await call('POST', `/api/cron/jobs/${job.id}/pause`, alice);
    const run = await call('POST', `/api/cron/jobs/${job.id}/trigger`, alice);
    expect(run).toMatchObject({ status: 202, body: { status: 'queued', trigger: 'manual' } });
    expect((await call('DELETE', `/api/cron/jobs/${job.id}`, alice)).status).toBe(204);
    expect((await call('POST', `/api/cron/jobs/${job.id}/trigger`, alice)).status).toBe(404);
    expect((await call('POST', '/api/cron/jobs/never-was/trigger', admin)).status).toBe(404);
    // Deleted before the write: the statement itself writes nothing.
    expect(await daemon.daemon.app.get(RunsRepository).queueManual(job.id, {}, 'alice', { params: null }, 'alice')).toBeNull();
    expect(await triggersOf(job.id)).toEqual({ runs: 1, audits: 1 });
  });

  it('writes no run for a trigger the caller may not make: the statement checks the owner and source itself', async () => {
    const job = await create({ pipeline: 'ok', every: '7h' });
    expect((await call('POST', `/api/cron/jobs/${job.id}/trigger`, bob)).status).toBe(404);
    expect((await call('POST', '/api/cron/jobs/nightly/trigger', alice)).status).toBe(403);
    const runs = daemon.daemon.app.get(RunsRepository);
    // Without the service in front: another user's job, and a config job even for its owner's name.
    expect(await runs.queueManual(job.id, {}, 'bob', { params: null }, 'bob')).toBeNull();
    expect(await runs.queueManual('nightly', {}, 'system', { params: null }, 'system')).toBeNull();
    expect([await triggersOf(job.id), await triggersOf('nightly')]).toEqual([{ runs: 0, audits: 0 }, { runs: 0, audits: 0 }]);
    // The owner's own API job, and any job for an admin (no owner given).
    expect(await runs.queueManual(job.id, {}, 'alice', { params: null }, 'alice')).toMatchObject({ jobId: job.id, triggeredBy: 'alice' });
    expect(await runs.queueManual('nightly', {}, 'ops', { params: null }, null)).toMatchObject({ jobId: 'nightly', triggeredBy: 'ops' });
    expect([await triggersOf(job.id), await triggersOf('nightly')]).toEqual([{ runs: 1, audits: 1 }, { runs: 1, audits: 1 }]);
  });

  /** The manual runs of a job and their audit rows. */
  async function triggersOf(jobId: string): Promise<{ runs: number; audits: number }> {
    const [counts] = await daemon.daemon.app.get(Database).rows<{ runs: number; audits: number }>(
      `SELECT (SELECT count(*)::int FROM cw_runs WHERE job_id = $1 AND trigger = 'manual') AS runs,
              (SELECT count(*)::int FROM cw_audit WHERE job_id = $1 AND action = 'job.trigger') AS audits`, [jobId]);
    return counts;
  }

  it('cancels the runs of a deleted job, the running one included', async () => {
    const job = await create({ pipeline: 'sleepy', every: '7h', overlap: 'allow' });
    const first = (await call('POST', `/api/cron/jobs/${job.id}/trigger`, alice)).body;
    await waitFor(async () => (await call('GET', `/api/cron/runs/${first.id}/output`, alice)).body.includes('ready'), 10_000, 'the run to start');
    expect((await call('DELETE', `/api/cron/jobs/${job.id}`, alice)).status).toBe(204);
    const ended = await waitFor(async () => {
      const { body } = await call('GET', `/api/cron/runs/${first.id}`, alice);
      return body.status === 'running' ? null : body;
    }, 10_000, 'the run to be cancelled');
    expect(ended).toMatchObject({ status: 'cancelled', cancelRequestedBy: 'alice' });
  });
});
