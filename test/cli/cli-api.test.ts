import { api, createTestStore, FIXTURES, startTestDaemon, TEST_JWT_SECRET, token, waitFor, type TestDaemon, type TestStore } from '../support/daemon.js';
import { testDatabaseKinds } from '../support/databases.js';
import { cli, requireBuiltCli } from './cli-process.js';

const admin = token('ops', ['admin']);

describe.each(testDatabaseKinds())('the cronwarden command line against a daemon on %s', (kind) => {
  let store: TestStore;
  let daemon: TestDaemon;
  /** Runs the CLI against this daemon as the admin (or with `as`). */
  const run = (args: string[], as = admin) => cli([...args, '--url', daemon.url, '--token', as]);

  beforeAll(async () => {
    requireBuiltCli();
    store = await createTestStore(kind);
    daemon = await startTestDaemon(store, `
pipelines:
  ok: { command: ["${FIXTURES}/exit-0.sh"] }
  fail3: { command: ["${FIXTURES}/exit-3.sh"] }
  steps: { command: ["node", "${FIXTURES}/progress.mjs", "3", "300"] }
  sleepy: { command: ["${FIXTURES}/sleep.sh", "30"], killGrace: 1s }
  second-try: { command: ["${FIXTURES}/second-try.sh"], retries: { max: 2, backoff: 0s } }
jobs:
  nightly: { name: Nightly report, pipeline: ok, every: 5h }
  breaks: { pipeline: fail3, every: 5h }
  counts: { pipeline: steps, every: 5h }
  naps: { pipeline: sleepy, every: 5h }
`);
  });
  afterAll(async () => {
    await daemon?.close();
    await store?.dispose();
  });

  it('lists jobs as a table for people and as JSON for scripts', async () => {
    const table = await run(['jobs', 'list']);
    expect(table).toMatchObject({ code: 0, stderr: '' });
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+NAME\s+SCHEDULE\s+NEXT RUN\s+LAST RUN\s+PAUSED$/);
    expect(lines.find((line) => line.startsWith('nightly '))).toMatch(/^nightly\s+Nightly report\s+every 5h\s+in \d+h\d\dm\s+-\s+no$/);

    const json = await run(['jobs', 'list', '--json']);
    expect(json.code).toBe(0);
    const jobs = JSON.parse(json.stdout) as Array<{ id: string; every: string }>;
    expect(jobs.map((job) => job.id).sort()).toEqual(['breaks', 'counts', 'naps', 'nightly']);
    expect(jobs.find((job) => job.id === 'nightly')?.every).toBe('5h');
  });

  it('lists one page with --limit and says on stderr how to get the next', async () => {
    const first = await run(['jobs', 'list', '--owner', 'system', '--limit', '3']);
    expect(first.code).toBe(0);
    expect(first.stdout.trimEnd().split('\n').slice(1).map((line) => line.split(' ')[0])).toEqual(['breaks', 'counts', 'naps']);
    const cursor = /^more jobs: repeat with --cursor (\S+)\n$/.exec(first.stderr)?.[1];
    expect(cursor).toBeDefined();
    const next = await run(['jobs', 'list', '--owner', 'system', '--limit', '3', '--cursor', cursor!, '--json']);
    expect(next).toMatchObject({ code: 0, stderr: '' });
    expect((JSON.parse(next.stdout) as Array<{ id: string }>).map((job) => job.id)).toEqual(['nightly']);
    expect(await run(['jobs', 'list', '--limit', '0'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^cronwarden: 400 .*limit/) });
  });

  it('pauses a job with a note and resumes it', async () => {
    const paused = await run(['jobs', 'pause', 'nightly', '--note', 'database upgrade']);
    expect(paused).toMatchObject({ code: 0, stdout: 'paused job nightly: database upgrade\n' });
    expect((await api(daemon, 'GET', '/api/cron/jobs/nightly', { token: admin })).body).toMatchObject({ paused: true, pauseNote: 'database upgrade', pausedBy: 'ops' });
    expect((await run(['jobs', 'list', '--paused'])).stdout).toMatch(/^nightly .* yes \(database upgrade\)$/m);

    const resumed = await run(['jobs', 'resume', 'nightly', '--json']);
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ id: 'nightly', paused: false, pauseNote: null });
  });

  it("triggers a run with --follow, streams the child's output and exits with the run's exit code", async () => {
    const failing = await run(['jobs', 'trigger', 'breaks', '--follow']);
    expect(failing.stdout).toBe('about to fail\n');
    expect(failing.stderr).toContain('failing with 3\n');
    expect(failing.stderr).toMatch(/run \S+ failed after [\d.]+m?s \(exit code 3/);
    expect(failing.code).toBe(3);

    const counting = await run(['jobs', 'trigger', 'counts', '-f']);
    expect(counting).toMatchObject({ code: 0, stdout: 'step 1/3\nstep 2/3\nstep 3/3\n' });
    expect(counting.stderr).toMatch(/run \S+ succeeded after/);
  });

  it("prints a run's output, lists runs and shows one", async () => {
    const queued = await run(['jobs', 'trigger', 'nightly', '--json']);
    const { id } = JSON.parse(queued.stdout) as { id: string };
    await waitFor(async () => (await api(daemon, 'GET', `/api/cron/runs/${id}`, { token: admin })).body.status === 'succeeded', 15_000, 'the run to succeed');

    expect(await run(['runs', 'logs', id])).toMatchObject({ code: 0, stdout: 'hello from exit-0\n' });
    expect(await run(['runs', 'logs', id, '--follow'])).toMatchObject({ code: 0, stdout: 'hello from exit-0\n' });
    const list = await run(['runs', 'list', '--job', 'nightly']);
    expect(list.stdout).toMatch(new RegExp(`^${id}\\s+nightly\\s+succeeded\\s+manual\\s`, 'm'));
    const shown = await run(['runs', 'show', id]);
    expect(shown.stdout).toMatch(/^status:\s+succeeded$/m);
    expect(shown.stdout).toMatch(/^exit code:\s+0$/m);
  });

  it('tails a running run with runs logs --follow until it is cancelled', async () => {
    const { id } = JSON.parse((await run(['jobs', 'trigger', 'naps', '--json'])).stdout) as { id: string };
    const tail = run(['runs', 'logs', id, '--follow']);
    await waitFor(async () => (await api(daemon, 'GET', `/api/cron/runs/${id}/output`, { token: admin })).body === 'ready\n', 10_000, 'the child to start');
    expect((await run(['runs', 'cancel', id, '--reason', 'test over'])).code).toBe(0);
    const tailed = await tail;
    expect(tailed.stdout).toBe('ready\n');
    expect(tailed.stderr).toMatch(/run \S+ cancelled .*signal SIGTERM/);
    expect(tailed.code).toBe(128 + 15);
  });

  it('follows a failed run into its retry with --follow and exits with the last attempt\'s code', async () => {
    expect((await api(daemon, 'POST', '/api/cron/jobs', { token: admin, body: { id: 'flaky', pipeline: 'second-try', every: '5h' } })).status).toBe(201);
    try {
      const triggered = await run(['jobs', 'trigger', 'flaky', '--follow']);
      expect(triggered).toMatchObject({ code: 0, stdout: 'attempt 1\nattempt 2\n' });
      const [first, retry] = [...triggered.stderr.matchAll(/run (\S+) /g)].map((match) => match[1]).filter((id, i, all) => all.indexOf(id) === i);
      expect(triggered.stderr.split('\n')).toEqual([
        `run ${first} of job flaky queued`,
        'the first attempt fails',
        expect.stringMatching(new RegExp(`^run ${first} failed after \\S+ \\(exit code 3\\); retry ${retry} \\(attempt 2\\) queued, following it$`)),
        expect.stringMatching(new RegExp(`^run ${retry} succeeded after \\S+ \\(exit code 0\\)$`)),
        '',
      ]);
      // The run's own record names its retry; following the first run's logs goes on into it too.
      expect((await api(daemon, 'GET', `/api/cron/runs/${first}`, { token: admin })).body).toMatchObject({ status: 'failed', retryRunId: retry });
      expect(await run(['runs', 'logs', first, '--follow', '--json'])).toMatchObject({ code: 0, stdout: expect.stringMatching(/^attempt 1\nattempt 2\n\{/) });
    } finally {
      await api(daemon, 'DELETE', '/api/cron/jobs/flaky', { token: admin });
    }
  });

  it('creates and deletes a job', async () => {
    const created = await run(['jobs', 'create', '--id', 'hourly', '--pipeline', 'ok', '--cron', '0 * * * *', '--timezone', 'Europe/Berlin', '--params', '{"day":"mon"}']);
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^schedule:\s+cron 0 \* \* \* \* Europe\/Berlin$/m);
    expect(created.stdout).toMatch(/^params:\s+\{"day":"mon"\}$/m);
    expect(await run(['jobs', 'delete', 'hourly'])).toMatchObject({ code: 0, stdout: 'deleted job hourly\n' });
  });

  it('says "not found" on one line and exits 2 for an unknown job', async () => {
    expect(await run(['jobs', 'show', 'nope'])).toEqual({ code: 2, stdout: '', stderr: 'cronwarden: not found: job "nope"\n' });
  });

  it("prints the API's reason for a rejected token and exits 2", async () => {
    const forged = await run(['jobs', 'list'], token('ops', ['admin']).replace(/.{4}$/, 'AAAA'));
    expect(forged).toEqual({ code: 2, stdout: '', stderr: 'cronwarden: unauthorized: invalid signature\n' });
    const missing = await cli(['jobs', 'list', '--url', daemon.url]);
    expect(missing.stderr).toBe('cronwarden: unauthorized: missing bearer token (pass --token or set CRONWARDEN_TOKEN)\n');
  });

  it('mints a token the daemon accepts and lists nodes with it, taking URL and token from the environment', async () => {
    const minted = await cli(['token', '--sub', 'deployer', '--roles', 'admin', '--ttl', '5m'], { JWT_SECRET: TEST_JWT_SECRET });
    expect(minted.code).toBe(0);
    const nodes = await cli(['nodes'], { CRONWARDEN_URL: daemon.url, CRONWARDEN_TOKEN: minted.stdout.trim() });
    expect(nodes.code).toBe(0);
    expect(nodes.stdout).toMatch(new RegExp(`^${daemon.daemon.node.id} \\*\\s+\\S+\\s+${process.pid}\\s+\\S+\\s+alive\\s`, 'm'));
  });
});
