import { get, type IncomingHttpHeaders } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { GZIP_FROM_BYTES } from '../../src/common/prepared-json.js';
import { JobListCache } from '../../src/jobs/job-list-cache.js';
import { api, createTestStore, FIXTURES, startTestDaemon, token, waitFor, useTestDaemon, type TestDaemon, type TestStore } from '../support/daemon.js';
import { testDatabaseKinds } from '../support/databases.js';

const admin = token('ops', ['admin']);
const alice = token('alice', ['user']);
const HOUR = 3_600_000;

const yaml = `
daemon:
  maxConcurrentRuns: 1
pipelines:
  ok:
    command: ["${FIXTURES}/exit-0.sh"]
  sleepy:
    command: ["${FIXTURES}/sleep.sh", "30"]
    killGrace: 1s
`;

interface ListedJob {
  id: string;
  name: string;
  paused: boolean;
  lastRun: { id: string; status: string; cancelRequestedBy: string | null } | null;
}

/** The first page of jobs as `as` sees it. */
async function page(daemon: TestDaemon, as = admin): Promise<Map<string, ListedJob>> {
  const response = await api(daemon, 'GET', '/api/cron/jobs?limit=100', { token: as });
  expect(response.status).toBe(200);
  return new Map((response.body.items as ListedJob[]).map((job) => [job.id, job]));
}

/** GET as the admin with node:http, which neither asks for an encoding nor decodes one: the bytes as sent. */
function rawGet(daemon: TestDaemon, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    get(`${daemon.url}${path}`, { headers: { authorization: `Bearer ${admin}`, ...headers } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body: Buffer.concat(chunks) }));
      response.on('error', reject);
    }).on('error', reject);
  });
}

/** The cache of the daemon's job list, with no time limit: only the signals of writes may refresh a page. */
function signalsOnly(daemon: TestDaemon): JobListCache {
  const cache = daemon.daemon.app.get(JobListCache);
  cache.setLimits({ maxAgeMs: HOUR });
  return cache;
}

describe.each(testDatabaseKinds())('the cached job list on %s', (kind) => {
  const daemon = useTestDaemon(kind, yaml);
  const call = (method: string, path: string, as: string, body?: unknown) => api(daemon, method, path, { token: as, body });
  const runStatus = async (runId: string) => (await call('GET', `/api/cron/runs/${runId}`, admin)).body.status as string;

  it('answers from memory, and shows every change of a job made through the API at once', async () => {
    const cache = signalsOnly(daemon);
    await page(daemon);
    await page(daemon);
    expect(cache.stats.pages).toBeGreaterThan(0);

    expect((await call('POST', '/api/cron/jobs', alice, { id: 'listed', name: 'Listed', pipeline: 'ok', every: '1h' })).status).toBe(201);
    expect((await page(daemon)).get('listed')).toMatchObject({ name: 'Listed', paused: false, lastRun: null });
    expect((await page(daemon, alice)).get('listed')).toMatchObject({ name: 'Listed' });

    expect((await call('POST', '/api/cron/jobs/listed/pause', alice, { note: 'x' })).status).toBe(200);
    expect((await page(daemon)).get('listed')?.paused).toBe(true);
    expect((await call('POST', '/api/cron/jobs/listed/resume', alice)).status).toBe(200);
    expect((await page(daemon)).get('listed')?.paused).toBe(false);

    expect((await call('PATCH', '/api/cron/jobs/listed', alice, { name: 'Renamed' })).status).toBe(200);
    expect((await page(daemon)).get('listed')?.name).toBe('Renamed');

    expect((await call('DELETE', '/api/cron/jobs/listed', alice)).status).toBe(204);
    expect((await page(daemon)).has('listed')).toBe(false);
  });

  it('shows a run as queued, running and finished as soon as the run itself reads so', async () => {
    signalsOnly(daemon);
    expect((await call('POST', '/api/cron/jobs', admin, { id: 'quick', pipeline: 'ok', every: '1h' })).status).toBe(201);
    await page(daemon);
    const run = (await call('POST', '/api/cron/jobs/quick/trigger', admin)).body;
    expect((await page(daemon)).get('quick')?.lastRun?.id).toBe(run.id);
    await waitFor(async () => (await runStatus(run.id)) === 'succeeded', 15_000, 'the run to succeed');
    expect((await page(daemon)).get('quick')?.lastRun?.status).toBe('succeeded');
  });

  it('shows a claimed run as running, a cancel asked for, and a queued run cancelled', async () => {
    signalsOnly(daemon);
    expect((await call('POST', '/api/cron/jobs', admin, { id: 'slow', pipeline: 'sleepy', every: '1h', overlap: 'allow' })).status).toBe(201);
    const first = (await call('POST', '/api/cron/jobs/slow/trigger', admin)).body;
    await page(daemon);
    await waitFor(async () => (await runStatus(first.id)) === 'running', 15_000, 'the run to start');
    expect((await page(daemon)).get('slow')?.lastRun).toMatchObject({ id: first.id, status: 'running' });

    // One run at a time: the second stays queued until it is cancelled.
    const second = (await call('POST', '/api/cron/jobs/slow/trigger', admin)).body;
    expect((await page(daemon)).get('slow')?.lastRun).toMatchObject({ id: second.id, status: 'queued' });
    expect((await call('POST', `/api/cron/runs/${second.id}/cancel`, admin)).status).toBe(200);
    expect((await page(daemon)).get('slow')?.lastRun).toMatchObject({ id: second.id, status: 'cancelled' });

    const third = (await call('POST', '/api/cron/jobs/slow/trigger', admin)).body;
    expect((await call('POST', `/api/cron/runs/${first.id}/cancel`, admin)).status).toBe(202);
    await waitFor(async () => (await runStatus(first.id)) === 'cancelled', 15_000, 'the running run to be cancelled');
    await waitFor(async () => (await runStatus(third.id)) === 'running', 15_000, 'the next run to start');
    expect((await page(daemon)).get('slow')?.lastRun).toMatchObject({ id: third.id, status: 'running' });
    expect((await call('POST', `/api/cron/runs/${third.id}/cancel`, admin)).status).toBe(202);
    await waitFor(async () => (await runStatus(third.id)) === 'cancelled', 15_000, 'the last run to be cancelled');
    expect((await page(daemon)).get('slow')?.lastRun).toMatchObject({ id: third.id, status: 'cancelled', cancelRequestedBy: 'ops' });
  });

  it('answers a page with the headers reply.send gives it, gzipped to a client that takes gzip, and 304 for a matching If-None-Match', async () => {
    for (const id of ['wide_1', 'wide_2', 'wide_3']) expect((await call('POST', '/api/cron/jobs', admin, { id, pipeline: 'ok', every: '1h' })).status).toBe(201);
    const path = '/api/cron/jobs?limit=5';
    const plain = await rawGet(daemon, path);
    expect(plain.status).toBe(200);
    expect(plain.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers['content-length']).toBe(String(plain.body.length));
    expect(plain.headers.etag).toMatch(/^W\/"[^"]+"$/);
    expect(plain.headers.vary).toMatch(/\baccept-encoding\b/i);
    expect(plain.body.length).toBeGreaterThanOrEqual(GZIP_FROM_BYTES);
    expect(JSON.parse(plain.body.toString('utf8'))).toMatchObject({ items: expect.any(Array) });

    // What browsers and fetch ask for: the same JSON, gzipped, under the same (weak) ETag.
    const zipped = await rawGet(daemon, path, { 'accept-encoding': 'gzip, deflate, br' });
    expect(zipped.status).toBe(200);
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.headers['content-length']).toBe(String(zipped.body.length));
    expect(zipped.headers.vary).toMatch(/\baccept-encoding\b/i);
    expect(zipped.headers.etag).toBe(plain.headers.etag);
    expect(gunzipSync(zipped.body).equals(plain.body)).toBe(true);
    expect(zipped.body.length).toBeLessThan(plain.body.length / 4);

    // gzip refused, or only encodings the daemon does not make: the JSON as it is.
    for (const refused of ['gzip;q=0, identity', 'br', 'identity']) {
      const answer = await rawGet(daemon, path, { 'accept-encoding': refused });
      expect({ refused, encoding: answer.headers['content-encoding'], same: answer.body.equals(plain.body) }).toEqual({ refused, encoding: undefined, same: true });
    }
    // node:http, not fetch: fetch adds Cache-Control: no-cache to a conditional request, which always gets the body.
    expect((await rawGet(daemon, path, { 'if-none-match': plain.headers.etag! })).status).toBe(304);
    expect((await rawGet(daemon, path, { 'accept-encoding': 'gzip', 'if-none-match': plain.headers.etag! })).status).toBe(304);
  });
});

// Other nodes' writes reach a node's cache through LISTEN/NOTIFY, which only PostgreSQL has.
for (const kind of process.env.DATABASE_URL ? (['postgres'] as const) : []) {
  describe(`the cached job list with two daemons on one ${kind} database`, () => {
    let store: TestStore;
    let writer: TestDaemon;
    let reader: TestDaemon;

    beforeAll(async () => {
      store = await createTestStore(kind);
      writer = await startTestDaemon(store, yaml);
      reader = await startTestDaemon(store, yaml);
    });
    afterAll(async () => {
      await writer?.close();
      await reader?.close();
      await store?.dispose();
    });

    // The reader's pages never expire by time here: only the other node's signals can refresh them.
    const shown = (check: (jobs: Map<string, ListedJob>) => boolean, what: string) =>
      waitFor(async () => check(await page(reader)), 10_000, `the other node's list to show ${what}`);

    it("shows jobs created, changed, paused and deleted through another node", async () => {
      const cache = signalsOnly(reader);
      await page(reader);
      expect(cache.stats.pages).toBeGreaterThan(0);
      expect((await api(writer, 'POST', '/api/cron/jobs', { token: alice, body: { id: 'elsewhere', pipeline: 'ok', every: '1h' } })).status).toBe(201);
      await shown((jobs) => jobs.has('elsewhere'), 'the new job');
      expect((await api(writer, 'PATCH', '/api/cron/jobs/elsewhere', { token: alice, body: { name: 'Moved' } })).status).toBe(200);
      await shown((jobs) => jobs.get('elsewhere')?.name === 'Moved', 'the new name');
      expect((await api(writer, 'POST', '/api/cron/jobs/elsewhere/pause', { token: alice, body: {} })).status).toBe(200);
      await shown((jobs) => jobs.get('elsewhere')?.paused === true, 'the pause');
      expect((await api(writer, 'DELETE', '/api/cron/jobs/elsewhere', { token: alice })).status).toBe(204);
      await shown((jobs) => !jobs.has('elsewhere'), 'the job gone');
    });

    it("shows runs queued, claimed, cancelled and finished on another node", async () => {
      signalsOnly(reader);
      expect((await api(writer, 'POST', '/api/cron/jobs', { token: admin, body: { id: 'remote', pipeline: 'sleepy', every: '1h', overlap: 'allow' } })).status).toBe(201);
      await shown((jobs) => jobs.get('remote')?.lastRun === null, 'the job');
      const run = (await api(writer, 'POST', '/api/cron/jobs/remote/trigger', { token: admin })).body;
      await shown((jobs) => jobs.get('remote')?.lastRun?.id === run.id, 'the queued run');
      await shown((jobs) => jobs.get('remote')?.lastRun?.status === 'running', 'the run claimed');
      expect((await api(writer, 'POST', `/api/cron/runs/${run.id}/cancel`, { token: admin })).status).toBe(202);
      await shown((jobs) => jobs.get('remote')?.lastRun?.status === 'cancelled', 'the run cancelled and ended');
    });
  });
}
