import { api, FIXTURES, token, useTestDaemon } from '../support/daemon.js';
import { testDatabaseKinds } from '../support/databases.js';

const admin = token('ops', ['admin']);
const alice = token('alice', ['user']);
const bob = token('bob', ['user']);

const yaml = `
pipelines:
  ok:
    command: ["${FIXTURES}/exit-0.sh", "--verbose"]
    timeout: 90s
    killGrace: 5s
    maxOutputBytes: 2MiB
    env:
      SECRET_TOKEN: hunter2-value
    passEnv: [HOME]
    retries: { max: 2, backoff: 10s }
jobs:
  sundays:
    pipeline: ok
    cron: "30 2 * * 0"
    timezone: Europe/Berlin
`;

interface Instant { at: string; local: string; offset: string; dstNote: string | null }

describe.each(testDatabaseKinds())('the pipeline catalog and schedule previews on %s', (kind) => {
  const daemon = useTestDaemon(kind, yaml);

  const call = (method: string, path: string, as: string, body?: unknown) => api(daemon, method, path, { token: as, body });

  it('lists the pipelines with their limits but never their env values', async () => {
    const { status, body } = await call('GET', '/api/cron/pipelines', alice);
    expect(status).toBe(200);
    expect(body).toEqual([{
      id: 'ok', command: [`${FIXTURES}/exit-0.sh`, '--verbose'], shell: false, timeout: '1m30s', killGrace: '5s',
      maxOutputBytes: 2 * 1024 * 1024, retries: { max: 2, backoff: '10s', factor: 2 }, passEnv: ['HOME'],
    }]);
    expect(JSON.stringify(body)).not.toMatch(/hunter2|SECRET_TOKEN/);
  });

  it("previews a job's next instants in UTC and local time, marking where DST moves or doubles one", async () => {
    const { status, body } = await call('GET', '/api/cron/jobs/sundays/next?n=100', bob);
    expect(status).toBe(200);
    expect(body).toMatchObject({ jobId: 'sundays', cron: '30 2 * * 0', timezone: 'Europe/Berlin', paused: false });
    const instants: Instant[] = body.instants;
    expect(instants).toHaveLength(100);
    expect(Date.parse(instants[0].at)).toBeGreaterThan(Date.now());
    for (const instant of instants) expect(instant.local).toMatch(/^\d{4}-\d\d-\d\dT0[23]:[03]0:00\+0[12]:00$/);
    // A hundred Sundays always span a spring-forward and a fall-back in Berlin.
    const spring = instants.find((instant) => instant.dstNote?.includes('does not exist'));
    expect(spring).toMatchObject({ offset: '+02:00', dstNote: '02:30 does not exist on this day (DST); fires at 03:00' });
    expect(spring!.local).toMatch(/T03:00:00\+02:00$/);
    const autumn = instants.find((instant) => instant.dstNote?.includes('occurs twice'));
    expect(autumn?.dstNote).toMatch(/^02:30 occurs twice on this day \(DST\); fires once, at the first \(\+02:00\)$/);
    expect((await call('GET', '/api/cron/jobs/sundays/next', bob)).body.instants).toHaveLength(20);
  });

  it("counts an interval job's instants from its anchor and hides other users' jobs", async () => {
    const created = await call('POST', '/api/cron/jobs', alice, { id: 'hourly', pipeline: 'ok', every: '1h' });
    const { body } = await call('GET', '/api/cron/jobs/hourly/next?n=3', alice);
    const createdAt = Date.parse(created.body.createdAt);
    expect(body.instants.map((instant: Instant) => Date.parse(instant.at) - createdAt)).toEqual([3_600_000, 7_200_000, 10_800_000]);
    expect(body.instants[0]).toMatchObject({ offset: '+00:00', dstNote: null });
    expect((await call('GET', '/api/cron/jobs/hourly/next', bob)).status).toBe(404);
    expect((await call('GET', '/api/cron/jobs/hourly/next?n=101', alice)).status).toBe(400);
  });

  it('previews a schedule that is not saved', async () => {
    const cron = await call('POST', '/api/cron/preview', alice, { cron: '0 12 * * *', timezone: 'America/New_York', n: 2 });
    expect(cron.status).toBe(200);
    expect(cron.body).toMatchObject({ cron: '0 12 * * *', every: null, timezone: 'America/New_York' });
    expect(cron.body.instants).toHaveLength(2);
    expect(cron.body.instants[0].local).toMatch(/T12:00:00-0[45]:00$/);
    const before = Date.now();
    const every = await call('POST', '/api/cron/preview', admin, { every: '5h', n: 2 });
    const [first, second] = every.body.instants.map((instant: Instant) => Date.parse(instant.at));
    expect(second - first).toBe(5 * 3_600_000);
    expect(first - before).toBeGreaterThan(5 * 3_600_000 - 5_000);
  });

  it('answers 400 naming the field to a preview of a bad schedule', async () => {
    for (const [body, field] of [[{ cron: '0 25 * * *' }, 'cron'], [{ cron: '0 3 * * *', timezone: 'Atlantis/City' }, 'timezone'],
      [{ every: '5 hours' }, 'every'], [{}, 'cron'], [{ cron: '* * * * *', every: '1h' }, 'cron'], [{ every: '1h', n: 0 }, 'n'],
      [{ every: '1h', pipeline: 'ok' }, 'pipeline']] as const) {
      const response = await call('POST', '/api/cron/preview', alice, body);
      expect([body, response.status, response.body.field]).toEqual([body, 400, field]);
    }
    const croner = await call('POST', '/api/cron/preview', alice, { cron: '0 25 * * *' });
    expect(croner.body.message).toMatch(/^cron: invalid cron expression "0 25 \* \* \*": .{5,}/);
  });
});
