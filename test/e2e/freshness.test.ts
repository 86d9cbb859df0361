import { api, FIXTURES, token, waitFor, useTestDaemon } from '../support/daemon.js';
import { testDatabaseKinds } from '../support/databases.js';

const admin = token('ops', ['admin']);
const yaml = `
pipelines:
  ok: { command: ["${FIXTURES}/exit-0.sh"] }
  broken: { command: ["${FIXTURES}/exit-3.sh"] }
jobs:
  watched: { pipeline: ok, every: 5h, expectSuccessWithin: 2s }
  broken: { pipeline: broken, every: 5h }
`;

describe.each(testDatabaseKinds())("a job's health (dead-man's switch) on %s", (kind) => {
  const daemon = useTestDaemon(kind, yaml);

  const job = async (id: string) => (await api(daemon, 'GET', `/api/cron/jobs/${id}`, { token: admin })).body;
  const runToEnd = async (id: string) => {
    const { body: run } = await api(daemon, 'POST', `/api/cron/jobs/${id}/trigger`, { token: admin });
    await waitFor(async () => !['queued', 'running'].includes((await api(daemon, 'GET', `/api/cron/runs/${run.id}`, { token: admin })).body.status), 10_000, 'the run');
  };

  it('turns late when no run succeeded within expectSuccessWithin, and ok again after a success', async () => {
    expect(await job('watched')).toMatchObject({ health: 'ok', lastSuccessAt: null, expectSuccessWithin: '2s' });
    await waitFor(async () => (await job('watched')).health === 'late', 5_000, 'the job to turn late');
    await runToEnd('watched');
    const after = await job('watched');
    expect(after.health).toBe('ok');
    expect(Date.parse(after.lastSuccessAt)).toBeGreaterThan(Date.now() - 10_000);
  });

  it('is failing while its latest finished run failed, with twice the interval as the default limit', async () => {
    await runToEnd('broken');
    expect(await job('broken')).toMatchObject({ health: 'failing', expectSuccessWithin: '10h' });
    const listed = (await api(daemon, 'GET', '/api/cron/jobs', { token: admin })).body.find((j: { id: string }) => j.id === 'broken');
    expect(listed.health).toBe('failing');
  });
});
