import { RETRY_AFTER_SECONDS } from '../../src/common/domain-exception.filter.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { token } from '../support/daemon.js';
import { testDatabaseKinds } from '../support/databases.js';

const admin = token('ops', ['admin']);

/**
 * The embedded database has one pooled connection: a request that cannot get it within the pool's
 * timeout (output flushes of many runs ahead of it) must say "try again", not "internal error".
 */
describe.each(testDatabaseKinds())('the API while every database connection is busy, %s', (kind) => {
  let app: TestApp;
  beforeAll(async () => (app = await startTestApp(kind, { poolSize: 1, connectionTimeoutMs: 300 })));
  afterAll(async () => app?.close());

  const get = (path: string) => fetch(app.url + path, { headers: { authorization: `Bearer ${admin}` } });

  it('answers 503 with Retry-After and a message saying why, and 200 again once the connection is free', async () => {
    let release!: () => void;
    let holding!: () => void;
    const held = new Promise<void>((resolve) => (holding = resolve));
    const busy = app.db.database.transaction(async () => {
      holding();
      await new Promise<void>((resolve) => (release = resolve));
    });
    await held;

    for (const path of ['/api/cron/jobs', '/api/cron/runs/00000000-0000-4000-8000-000000000000']) {
      const response = await get(path);
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe(String(RETRY_AFTER_SECONDS));
      expect(await response.json()).toEqual({ statusCode: 503, message: expect.stringMatching(/database is busy or unreachable; try again/) });
    }

    release();
    await busy;
    expect((await get('/api/cron/jobs')).status).toBe(200);
  });
});
