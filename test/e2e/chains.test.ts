import { api, FIXTURES, token, waitFor, useTestDaemon } from '../support/daemon.js';
import { testDatabaseKinds } from '../support/databases.js';

const admin = token('ops', ['admin']);
const yaml = `
pipelines:
  ok: { command: ["${FIXTURES}/exit-0.sh"] }
  broken: { command: ["${FIXTURES}/exit-3.sh"] }
jobs:
  build: { pipeline: ok, every: 5h, onSuccess: [publish, archive] }
  publish: { pipeline: ok, every: 5h }
  archive: { pipeline: ok, every: 5h, paused: true }
  flaky: { pipeline: broken, every: 5h, retries: { max: 1, backoff: 0s }, onFailure: [alert] }
  alert: { pipeline: ok, every: 5h }
`;

interface Run { id: string; jobId: string; status: string; trigger: string; attempt: number; parentRunId: string | null; error: string | null }

describe.each(testDatabaseKinds())('chains and job retries on %s', (kind) => {
  const daemon = useTestDaemon(kind, yaml);

  const runsOf = async (jobId: string): Promise<Run[]> => (await api(daemon, 'GET', `/api/cron/jobs/${jobId}/runs`, { token: admin })).body.items;
  const settled = (jobId: string, count: number) => waitFor(async () => {
    const runs = await runsOf(jobId);
    return runs.length >= count && runs.every((run) => !['queued', 'running'].includes(run.status)) ? runs : null;
  }, 15_000, `${count} finished run(s) of ${jobId}`);

  it('queues each onSuccess job once after a success, and records a paused target as skipped with the reason', async () => {
    const { body: build } = await api(daemon, 'POST', '/api/cron/jobs/build/trigger', { token: admin });
    const [published] = await settled('publish', 1);
    expect(published).toMatchObject({ trigger: 'chain', parentRunId: build.id, status: 'succeeded' });
    expect((await api(daemon, 'GET', `/api/cron/runs/${build.id}`, { token: admin })).body).toMatchObject({ status: 'succeeded', retryRunId: null });
    const [archived] = await settled('archive', 1);
    expect(archived).toMatchObject({ trigger: 'chain', parentRunId: build.id, status: 'skipped' });
    expect(archived.error).toMatch(/paused/);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await runsOf('publish')).toHaveLength(1);
  });

  it("retries by the job's own policy, then runs onFailure once the last attempt failed", async () => {
    const { body: first } = await api(daemon, 'POST', '/api/cron/jobs/flaky/trigger', { token: admin });
    const runs = await settled('flaky', 2);
    const retry = runs.find((run) => run.trigger === 'retry')!;
    expect(retry).toMatchObject({ attempt: 2, parentRunId: first.id, status: 'failed' });
    // Each run's own record names the retry that followed it, if any.
    const retryOf = async (id: string) => (await api(daemon, 'GET', `/api/cron/runs/${id}`, { token: admin })).body.retryRunId;
    expect([await retryOf(first.id), await retryOf(retry.id)]).toEqual([retry.id, null]);
    const [alert] = await settled('alert', 1);
    expect(alert).toMatchObject({ trigger: 'chain', parentRunId: retry.id });
    expect(await runsOf('alert')).toHaveLength(1);
  });
});
