import { api, FIXTURES, token, waitFor, useTestDaemon } from '../support/daemon.js';
import { testDatabaseKinds } from '../support/databases.js';

const admin = token('ops', ['admin']);
const alice = token('alice', ['user']);

const yaml = `
pipelines:
  ok:
    command: ["${FIXTURES}/exit-0.sh"]
  sleepy:
    command: ["${FIXTURES}/sleep.sh", "30"]
    killGrace: 1s
jobs:
  nightly: { pipeline: ok, cron: "0 3 * * *" }
`;

describe.each(testDatabaseKinds())('the audit log on %s', (kind) => {
  const daemon = useTestDaemon(kind, yaml);

  const call = (method: string, path: string, as: string, body?: unknown) => api(daemon, method, path, { token: as, body });

  it('records every change with who, when, what, and the job or run, newest first', async () => {
    const before = Date.now() - 1_000;
    expect((await call('POST', '/api/cron/jobs', alice, { id: 'audited', pipeline: 'sleepy', every: '1h', params: { a: 1 } })).status).toBe(201);
    expect((await call('PATCH', '/api/cron/jobs/audited', alice, { every: '2h', name: 'Audited' })).status).toBe(200);
    expect((await call('POST', '/api/cron/jobs/audited/pause', alice, { note: 'holiday' })).status).toBe(200);
    expect((await call('POST', '/api/cron/jobs/audited/resume', alice)).status).toBe(200);
    const run = (await call('POST', '/api/cron/jobs/audited/trigger', alice, { params: { a: 2 } })).body;
    await waitFor(async () => (await call('GET', `/api/cron/runs/${run.id}/output`, alice)).body.includes('ready'), 10_000, 'the run to start');
    expect((await call('POST', `/api/cron/runs/${run.id}/cancel`, alice, { reason: 'oops' })).status).toBe(202);
    expect((await call('POST', '/api/cron/jobs/nightly/pause', admin)).status).toBe(200);
    expect((await call('DELETE', '/api/cron/jobs/audited', alice)).status).toBe(204);

    const { status, body } = await call('GET', '/api/cron/audit?jobId=audited', admin);
    expect(status).toBe(200);
    expect(body.items.map((entry: { action: string }) => entry.action)).toEqual(
      ['job.delete', 'run.cancel', 'job.trigger', 'job.resume', 'job.pause', 'job.update', 'job.create']);
    for (const entry of body.items) {
      expect(entry).toMatchObject({ actor: 'alice', jobId: 'audited' });
      expect(Date.parse(entry.at)).toBeGreaterThanOrEqual(before);
    }
    const byAction = Object.fromEntries(body.items.map((entry: { action: string }) => [entry.action, entry]));
    expect(byAction['job.create'].details).toMatchObject({ pipeline: 'sleepy', every: '1h', params: { a: 1 }, owner: 'alice' });
    expect(byAction['job.update'].details).toEqual({ changes: { name: { from: 'audited', to: 'Audited' }, every: { from: '1h', to: '2h' } } });
    expect(byAction['job.pause'].details).toEqual({ note: 'holiday' });
    expect(byAction['job.trigger']).toMatchObject({ runId: run.id, details: { params: { a: 2 } } });
    expect(byAction['run.cancel']).toMatchObject({ runId: run.id, details: { reason: 'oops', statusBefore: 'running' } });
  });

  it('filters by actor and action and pages without repeats', async () => {
    const paused = await call('GET', '/api/cron/audit?actor=ops&action=job.pause,job.resume', admin);
    expect(paused.body.items).toEqual([expect.objectContaining({ actor: 'ops', action: 'job.pause', jobId: 'nightly' })]);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await call('GET', `/api/cron/audit?limit=3${cursor ? `&cursor=${cursor}` : ''}`, admin);
      seen.push(...page.body.items.map((entry: { id: string }) => entry.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(8);
    expect(new Set(seen).size).toBe(8);
  });

  it('is for admins only', async () => {
    expect((await call('GET', '/api/cron/audit', alice)).status).toBe(403);
    expect((await call('GET', '/api/cron/audit?action=job.explode', admin)).body.field).toBe('action');
  });
});
