import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NotificationsService } from '../../src/notifications/notifications.service.js';
import { api, createTestStore, startTestDaemon, token, waitFor, type TestDaemon, type TestStore } from '../support/daemon.js';
import { testDatabaseKinds } from '../support/databases.js';

const admin = token('ops', ['admin']);
const SECRET = 'webhook-secret-0123456789';

interface Received { headers: IncomingMessage['headers']; raw: string; body: { event: string; job: { id: string }; run: { id: string; status: string; exitCode: number }; outputTail: string; link: string; lastSuccessAt?: string | null } }

/** A local webhook receiver that records what it gets and answers with `status`. */
async function receiver(status: number): Promise<{ server: Server; url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((request, response) => {
    let raw = '';
    request.on('data', (chunk) => (raw += chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, raw, body: JSON.parse(raw) });
      response.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received };
}

describe.each(testDatabaseKinds())('webhook notifications on %s', (kind) => {
  let store: TestStore;
  let daemon: TestDaemon;
  let good: Awaited<ReturnType<typeof receiver>>;
  let broken: Awaited<ReturnType<typeof receiver>>;

  beforeAll(async () => {
    good = await receiver(200);
    broken = await receiver(500);
    store = await createTestStore(kind);
    daemon = await startTestDaemon(store, `
pipelines:
  exit:
    command: ["node", "-e", "console.log('exiting with', JSON.parse(process.env.JOB_INPUT).code); process.exit(JSON.parse(process.env.JOB_INPUT).code)"]
    notify:
      - { url: "${good.url}", on: [failed, recovered], secret: "${SECRET}" }
jobs:
  flaky:
    pipeline: exit
    every: 5h
    params: { code: 0 }
    notify:
      - { url: "${broken.url}", on: [failed] }
  watched:
    pipeline: exit
    every: 5h
    expectSuccessWithin: 1s
    notify:
      - { url: "${good.url}", on: [late] }
`);
  });
  afterAll(async () => {
    await daemon?.close();
    await store?.dispose();
    good?.server.close();
    broken?.server.close();
  });

  const runToEnd = async (code: number) => {
    const { body: run } = await api(daemon, 'POST', '/api/cron/jobs/flaky/trigger', { token: admin, body: { params: { code } } });
    return waitFor(async () => {
      const { body } = await api(daemon, 'GET', `/api/cron/runs/${run.id}`, { token: admin });
      return ['queued', 'running'].includes(body.status) ? null : body;
    }, 10_000, 'the run to end');
  };

  it('posts a signed webhook for a failed run, then "recovered" after the next success', async () => {
    const failed = await runToEnd(3);
    expect(failed.status).toBe('failed');
    const [first] = await waitFor(async () => good.received.length >= 1 && good.received, 10_000, 'the failed webhook');
    expect(first.body).toMatchObject({ event: 'failed', job: { id: 'flaky' }, run: { id: failed.id, status: 'failed', exitCode: 3 }, link: `/api/cron/runs/${failed.id}` });
    expect(first.body.outputTail).toContain('exiting with 3');
    expect(first.headers['x-cronwarden-signature']).toBe(`sha256=${createHmac('sha256', SECRET).update(first.raw).digest('hex')}`);

    const succeeded = await runToEnd(0);
    const recovered = await waitFor(async () => good.received.find((r) => r.body.event === 'recovered'), 10_000, 'the recovered webhook');
    expect(recovered.body.run).toMatchObject({ id: succeeded.id, status: 'succeeded' });
    expect(good.received.filter((r) => r.body.run.id === succeeded.id)).toHaveLength(1);
  });

  it('retries a receiver that answers 500 with backoff, without holding up the run, and shows the attempts on the run', async () => {
    const started = Date.now();
    const failed = await runToEnd(4);
    expect(Date.now() - started).toBeLessThan(5_000);
    await waitFor(async () => broken.received.filter((r) => r.body.run.id === failed.id).length >= 2, 10_000, 'a retried delivery');
    const { body: deliveries } = await api(daemon, 'GET', `/api/cron/runs/${failed.id}/notifications`, { token: admin });
    const toBroken = deliveries.find((d: { url: string }) => d.url === broken.url);
    expect(toBroken).toMatchObject({ event: 'failed', status: 'pending', lastError: 'receiver answered 500' });
    expect(toBroken.attempts).toBeGreaterThanOrEqual(2);
    expect(toBroken.secret).toBeUndefined();
    expect(deliveries.find((d: { url: string }) => d.url === good.url)).toMatchObject({ status: 'delivered', attempts: 1 });
  });

  it('tells a webhook once when a job turns late (no success within expectSuccessWithin)', async () => {
    const notifications = daemon.daemon.app.get(NotificationsService);
    await waitFor(async () => (await api(daemon, 'GET', '/api/cron/jobs/watched', { token: admin })).body.health === 'late', 5_000, 'the job to turn late');
    await notifications.checkFreshness();
    const late = await waitFor(async () => good.received.find((r) => r.body.event === 'late'), 10_000, 'the late webhook');
    expect(late.body).toMatchObject({ event: 'late', job: { id: 'watched' }, lastSuccessAt: null, link: '/api/cron/jobs/watched' });
    await notifications.checkFreshness();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(good.received.filter((r) => r.body.event === 'late')).toHaveLength(1);
  });
});
