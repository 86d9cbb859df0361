import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestApp, type TestApp } from '../../test/support/app.js';
import { waitFor } from '../../test/support/daemon.js';
import { testDatabaseKinds } from '../../test/support/databases.js';
import { NotificationsRepository } from './notifications.repository.js';
import { IDLE_POLL_MS, NotificationsService } from './notifications.service.js';

describe.each(testDatabaseKinds())('the webhook delivery worker on %s', (kind) => {
  let app: TestApp;
  let service: NotificationsService;
  let receiver: Server;
  let receiverUrl: string;
  const received: string[] = [];
  beforeAll(async () => {
    app = await startTestApp(kind);
    receiver = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        received.push(req.url ?? '');
        res.end('ok');
      });
    });
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    receiver?.close();
    await app?.close();
  });
  beforeEach(() => {
    service = app.app.get(NotificationsService);
  });
  afterEach(async () => {
    await service.stop();
    await app.db.database.rows('DELETE FROM cw_notifications');
  });

  it('with nothing pending, plans its next look IDLE_POLL_MS away, not a claim every second', async () => {
    expect(IDLE_POLL_MS).toBeGreaterThanOrEqual(5_000);
    service.start();
    const planned = await waitFor(async () => service.nextPassInMs ?? false, 10_000, 'the pass after the first');
    expect(planned).toBeGreaterThan(IDLE_POLL_MS - 2_000);
    expect(planned).toBeLessThanOrEqual(IDLE_POLL_MS);
  });

  it('plans its next look for when the earliest pending delivery falls due, and posts it then', async () => {
    const runId = await app.db.createRun();
    await app.app.get(NotificationsRepository).enqueue(runId, `${receiverUrl}/later`, 'failed', null, { event: 'failed' });
    // As a retry planned by any node: due in three seconds by the database's clock.
    await app.db.database.rows(`UPDATE cw_notifications SET next_attempt_at = now() + interval '3 seconds'`);
    service.start();
    const planned = await waitFor(async () => service.nextPassInMs ?? false, 10_000, 'the pass after the first');
    expect(planned).toBeLessThanOrEqual(3_000);
    expect(planned).toBeGreaterThan(1_000);
    await waitFor(async () => received.includes('/later'), IDLE_POLL_MS - 2_000, 'the delivery once due');
  });
});
